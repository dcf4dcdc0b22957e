-- One row per (pattern_type, pattern_value): how often deals in a group push their close
-- date, over all history. Groups: 'stage' (the stage the deal was in when pushed; deals_total
-- = deals that ever had a history row in that stage), 'owner', 'industry' and 'deal_size'
-- (the deal's current owner, account industry and current amount band).

with pushes as (

    select * from {{ ref('fct_close_date_push') }}

),

opportunities as (

    select * from {{ ref('fct_opportunity') }}

),

history as (

    select * from {{ ref('stg_sf__opportunity_history') }}

),

stage_pushes as (

    select
        'stage' as pattern_type,
        stage_name as pattern_value,
        count(*) as push_count,
        count(distinct opportunity_id) as deals_pushed,
        avg(slip_days) as avg_slip_days,
    from pushes
    group by stage_name

),

stage_first_push_amount as (

    select stage_name as pattern_value, sum(amount) as slipped_amount
    from (
        select *, row_number() over (
            partition by stage_name, opportunity_id order by pushed_at, push_id
        ) as push_rank
        from pushes
    )
    where push_rank = 1
    group by stage_name

),

stage_totals as (

    select stage_name as pattern_value, count(distinct opportunity_id) as deals_total
    from history
    group by stage_name

),

stage_patterns as (

    select
        stage_pushes.*,
        stage_first_push_amount.slipped_amount,
        stage_totals.deals_total,
    from stage_pushes
    left join stage_first_push_amount
        on stage_pushes.pattern_value = stage_first_push_amount.pattern_value
    left join stage_totals
        on stage_pushes.pattern_value = stage_totals.pattern_value

),

{%- set deal_groups = [
    ('owner', 'owner_id', 'owner_name'),
    ('industry', 'industry', 'industry'),
    ('deal_size', 'deal_size_band', 'deal_size_band'),
] %}

{% for pattern_type, deal_column, label_column in deal_groups %}
{{ pattern_type }}_patterns as (

    select
        '{{ pattern_type }}' as pattern_type,
        deals.{{ deal_column }} as pattern_key,
        min(deals.{{ label_column }}) as pattern_value,
        coalesce(sum(deal_pushes.push_count), 0) as push_count,
        count(deal_pushes.opportunity_id) as deals_pushed,
        sum(deal_pushes.slip_days_total) / nullif(sum(deal_pushes.push_count), 0)
            as avg_slip_days,
        coalesce(sum(deal_pushes.first_push_amount), 0) as slipped_amount,
        count(*) as deals_total,
    from opportunities as deals
    left join (
        select
            pushes.opportunity_id,
            count(*) as push_count,
            sum(pushes.slip_days) as slip_days_total,
            sum(pushes.amount) filter (where pushes.push_number = 1) as first_push_amount,
        from pushes
        group by pushes.opportunity_id
    ) as deal_pushes
        on deals.opportunity_id = deal_pushes.opportunity_id
    group by deals.{{ deal_column }}

),
{% endfor %}

unioned as (

    select pattern_type, pattern_value as pattern_key, pattern_value, push_count, deals_pushed,
        avg_slip_days, slipped_amount, deals_total
    from stage_patterns
    {%- for pattern_type, deal_column, label_column in deal_groups %}
    union all
    select pattern_type, pattern_key, pattern_value, push_count, deals_pushed, avg_slip_days,
        slipped_amount, deals_total
    from {{ pattern_type }}_patterns
    {%- endfor %}

),

final as (

    select
        cast(pattern_type as varchar) as pattern_type,
        cast(coalesce(pattern_key, 'unknown') as varchar) as pattern_key,
        cast(coalesce(pattern_value, 'Unknown') as varchar) as pattern_value,
        cast(push_count as bigint) as push_count,
        cast(deals_pushed as bigint) as deals_pushed,
        cast(deals_total as bigint) as deals_total,
        cast(round({{ ratio('deals_pushed', 'deals_total') }}, 6) as double) as push_rate,
        cast(round(avg_slip_days, 2) as double) as avg_slip_days,
        cast(round(coalesce(slipped_amount, 0), 2) as double) as slipped_amount,
        cast(
            case
                when {{ ratio('deals_pushed', 'deals_total') }} > 0.50 then 'High'
                when {{ ratio('deals_pushed', 'deals_total') }} > 0.30 then 'Medium'
                else 'Low'
            end as varchar
        ) as risk_level,
    from unioned

)

select * from final
