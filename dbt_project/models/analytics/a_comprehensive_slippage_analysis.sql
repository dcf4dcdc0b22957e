-- One row per (fiscal) quarter of m_slippage_impact_quarter: what drove the deals that
-- slipped out of the quarter (the stage they were in, their owner, their size) and what to
-- do about it.

with quarters as (

    select * from {{ ref('m_slippage_impact_quarter') }}

),

pushes as (

    select * from {{ ref('fct_close_date_push') }}

),

first_out_of_quarter as (

    -- each slipped deal counted once per quarter, as it was at its first push out of it
    select *
    from pushes
    where is_out_of_quarter
    qualify row_number() over (
        partition by old_close_quarter, opportunity_id order by pushed_at, push_id
    ) = 1

),

{%- set drivers = [
    ('stage', 'stage_name', 'stage_name'),
    ('owner', 'owner_id', 'owner_name'),
    ('deal_size', 'deal_size_band', 'deal_size_band'),
] %}

{% for driver, key_column, label_column in drivers %}
top_{{ driver }} as (

    select
        old_close_quarter as quarter,
        {{ label_column }} as top_value,
        slipped_deals as top_deals,
    from (
        select
            old_close_quarter,
            {{ key_column }},
            min({{ label_column }}) as {{ label_column }},
            count(*) as slipped_deals,
        from first_out_of_quarter
        group by old_close_quarter, {{ key_column }}
    )
    qualify row_number() over (
        partition by old_close_quarter order by slipped_deals desc, {{ label_column }}
    ) = 1

),
{% endfor %}

drivers as (

    select
        quarters.*,
        {%- for driver, key_column, label_column in drivers %}
        top_{{ driver }}.top_value as top_slip_{{ driver }},
        {{ ratio('top_' ~ driver ~ '.top_deals', 'quarters.deals_slipped') }}
            as top_slip_{{ driver }}_share,
        {%- endfor %}
    from quarters
    {%- for driver, key_column, label_column in drivers %}
    left join top_{{ driver }}
        on quarters.quarter = top_{{ driver }}.quarter
    {%- endfor %}

),

primary_driver as (

    select
        *,
        -- the driver whose top value holds the largest share of the slipped deals
        case
            when deals_slipped = 0 then 'none'
            when top_slip_stage_share >= top_slip_owner_share
                and top_slip_stage_share >= top_slip_deal_size_share then 'stage'
            when top_slip_owner_share >= top_slip_deal_size_share then 'owner'
            else 'deal_size'
        end as primary_driver_type,
    from drivers

),

described as (

    select
        *,
        case primary_driver_type
            when 'none' then 'No slippage'
            when 'stage' then 'Stage: ' || top_slip_stage
            when 'owner' then 'Owner: ' || top_slip_owner
            else 'Deal size: ' || top_slip_deal_size
        end as primary_driver,
        case primary_driver_type
            when 'none' then 'No deal slipped out of ' || quarter_label || '; no action needed.'
            when 'stage' then
                'Tighten exit criteria for ' || top_slip_stage || ': '
                || {{ fmt_pct('top_slip_stage_share') }} || ' of the deals that slipped out of '
                || quarter_label || ' were in that stage when their close date moved; review '
                || 'those deals weekly and confirm next steps before committing a close date.'
            when 'owner' then
                'Coach ' || top_slip_owner || ' on close-date discipline: '
                || {{ fmt_pct('top_slip_owner_share') }} || ' of the deals that slipped out of '
                || quarter_label || ' were theirs; inspect their commit deals before quarter end.'
            else
                'Engage executive sponsors earlier on ' || top_slip_deal_size || ' deals: '
                || {{ fmt_pct('top_slip_deal_size_share') }} || ' of the deals that slipped out of '
                || quarter_label || ' were that size; build longer approval time into their plans.'
        end as mitigation_strategy,
    from primary_driver

),

final as (

    select
        cast(quarter as date) as quarter,
        cast(quarter_label as varchar) as quarter_label,
        cast(is_current_quarter as boolean) as is_current_quarter,
        cast(deals_slipped as bigint) as deals_slipped,
        cast(round(slipped_amount, 2) as double) as slipped_amount,
        cast(round(avg_slip_days, 2) as double) as avg_slip_days,
        cast(deals_in_quarter as bigint) as deals_in_quarter,
        cast(round(slippage_rate, 6) as double) as slippage_rate,
        cast(impact_level as varchar) as impact_level,
        cast(top_slip_stage as varchar) as top_slip_stage,
        cast(round(top_slip_stage_share, 6) as double) as top_slip_stage_share,
        cast(top_slip_owner as varchar) as top_slip_owner,
        cast(round(top_slip_owner_share, 6) as double) as top_slip_owner_share,
        cast(top_slip_deal_size as varchar) as top_slip_deal_size,
        cast(round(top_slip_deal_size_share, 6) as double) as top_slip_deal_size_share,
        cast(primary_driver_type as varchar) as primary_driver_type,
        cast(primary_driver as varchar) as primary_driver,
        cast(mitigation_strategy as varchar) as mitigation_strategy,
    from described

)

select * from final
