{%- set source_relation = source('salesforce', 'opportunity_stage') -%}

with source as (

    select * from {{ source_relation }}
    where {{ sf_live_rows(source_relation) }}

),

renamed as (

    select
        {{ sf_select(source_relation, [
            ('id', 'opportunity_stage_id', 'varchar', true),
            ('api_name', 'stage_name', 'varchar', true),
            ('master_label', 'stage_label', 'varchar', false),
            ('default_probability', 'default_probability', 'integer', false),
            ('forecast_category_name', 'forecast_category_name', 'varchar', false),
            ('is_active', 'is_active', 'boolean', false),
            ('is_closed', 'is_closed', 'boolean', true),
            ('is_won', 'is_won', 'boolean', true),
            ('sort_order', 'sort_order', 'integer', false),
        ]) }}
    from source

),

default_sales_process as (

    -- Salesforce's default sales process (data-contract.md), used only when the raw
    -- opportunity_stage table is empty.
    select
        stage_id as opportunity_stage_id,
        stage_name,
        stage_name as stage_label,
        default_probability,
        forecast_category_name,
        true as is_active,
        is_closed,
        is_won,
        sort_order,
    from (values
        ('default-01', 'Prospecting', 10, 'Pipeline', false, false, 1),
        ('default-02', 'Qualification', 10, 'Pipeline', false, false, 2),
        ('default-03', 'Needs Analysis', 20, 'Pipeline', false, false, 3),
        ('default-04', 'Value Proposition', 50, 'Pipeline', false, false, 4),
        ('default-05', 'Id. Decision Makers', 60, 'Pipeline', false, false, 5),
        ('default-06', 'Perception Analysis', 70, 'Best Case', false, false, 6),
        ('default-07', 'Proposal/Price Quote', 75, 'Best Case', false, false, 7),
        ('default-08', 'Negotiation/Review', 90, 'Commit', false, false, 8),
        ('default-09', 'Closed Won', 100, 'Closed', true, true, 9),
        ('default-10', 'Closed Lost', 0, 'Omitted', true, false, 10)
    ) as defaults (
        stage_id, stage_name, default_probability, forecast_category_name, is_closed, is_won,
        sort_order
    )

),

landed as (

    select
        opportunity_stage_id,
        stage_name,
        stage_label,
        default_probability,
        forecast_category_name,
        coalesce(is_active, true) as is_active,
        coalesce(is_closed, false) as is_closed,
        coalesce(is_won, false) as is_won,
        sort_order,
    from renamed

),

stages as (

    select * from landed
    union all
    select * from default_sales_process
    where not exists (select 1 from landed)

)

select * from stages
