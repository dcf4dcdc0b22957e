-- Gold-SQL helpers: calendar maths relative to the warehouse's as-of date and fiscal start.
--
-- The eval runner creates these temporary macros on its own read-only connection before any
-- gold or bind query runs, so one case file holds for every org, as-of date and fiscal year
-- start. They read only `build_info` (as_of_date, fiscal_year_start_month): no dbt model
-- figure ever feeds a gold value through them. Periods are closed date ranges; "relative" n
-- is 0 for this period, -1 for the last one, 1 for the next.

create or replace temp macro as_of() as (select as_of_date from build_info);
create or replace temp macro fy_month() as (select fiscal_year_start_month from build_info);

-- first day of the (fiscal) quarter / half / year holding d
create or replace temp macro q_start(d) as
    cast(date_trunc('month', d) - to_months((month(d) - fy_month() + 12) % 3) as date);
create or replace temp macro h_start(d) as
    cast(date_trunc('month', d) - to_months((month(d) - fy_month() + 12) % 6) as date);
create or replace temp macro fy_start(d) as
    cast(date_trunc('month', d) - to_months((month(d) - fy_month() + 12) % 12) as date);
create or replace temp macro q_end(d) as cast(q_start(d) + interval 3 month - interval 1 day as date);
create or replace temp macro h_end(d) as cast(h_start(d) + interval 6 month - interval 1 day as date);
create or replace temp macro fy_end(d) as cast(fy_start(d) + interval 12 month - interval 1 day as date);

-- the fiscal year number (the calendar year the fiscal year ends in) and quarter number 1-4
create or replace temp macro fy_of(d) as year(fy_end(d));
create or replace temp macro q_num(d) as cast((month(d) - fy_month() + 12) % 12 // 3 + 1 as integer);

-- periods relative to the as-of date
create or replace temp macro rel_q_start(n) as cast(q_start(as_of()) + to_months(3 * n) as date);
create or replace temp macro rel_q_end(n) as cast(rel_q_start(n + 1) - interval 1 day as date);
create or replace temp macro rel_m_start(n) as
    cast(date_trunc('month', as_of()) + to_months(n) as date);
create or replace temp macro rel_m_end(n) as cast(rel_m_start(n + 1) - interval 1 day as date);
create or replace temp macro rel_h_start(n) as cast(h_start(as_of()) + to_months(6 * n) as date);
create or replace temp macro rel_h_end(n) as cast(rel_h_start(n + 1) - interval 1 day as date);
create or replace temp macro rel_fy_start(n) as cast(fy_start(as_of()) + to_months(12 * n) as date);
create or replace temp macro rel_fy_end(n) as cast(rel_fy_start(n + 1) - interval 1 day as date);

-- the "overall" window of metrics.md: the trailing four full quarters plus this quarter to date
create or replace temp macro overall_start() as rel_q_start(-4);

-- how people name a quarter holding d: 'Q3 2026' (calendar) or 'Q1 FY2027' (fiscal)
create or replace temp macro q_name(d) as
    case when fy_month() = 1 then 'Q' || q_num(d) || ' ' || fy_of(d)
         else 'Q' || q_num(d) || ' FY' || fy_of(d) end;
-- a month name people type: 'March 2026'
create or replace temp macro month_name(d) as strftime(d, '%B %Y');
