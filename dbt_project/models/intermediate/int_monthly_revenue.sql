-- One row per calendar month from the first month holding any opportunity's close_date
-- through six months after the as-of month: won revenue and weighted open pipeline of the
-- opportunities whose close_date is in that month. Months without deals hold 0.

with opportunities as (

    select * from {{ ref('fct_opportunity') }}

),

by_month as (

    select
        close_month as month,
        coalesce(sum(amount) filter (where is_won), 0) as won_amount,
        coalesce(sum(weighted_amount) filter (where is_open), 0) as weighted_pipeline,
    from opportunities
    group by close_month

),

bounds as (

    select
        min(month) as first_month,
        greatest(
            max(month),
            cast({{ month_start(as_of_date()) }} + interval 6 month as date)
        ) as last_month,
    from by_month

),

spine as (

    select cast(unnest(generate_series(first_month, last_month, interval 1 month)) as date)
        as month
    from bounds
    where first_month is not null

),

filled as (

    select
        spine.month,
        coalesce(by_month.won_amount, 0) as won_amount,
        coalesce(by_month.weighted_pipeline, 0) as weighted_pipeline,
    from spine
    left join by_month
        on spine.month = by_month.month

),

final as (

    select
        cast(month as date) as month,
        cast(won_amount as double) as won_amount,
        cast(weighted_pipeline as double) as weighted_pipeline,
    from filled

)

select * from final
