-- One row per calendar day from the first to the last order. Portable SQL (generate_series and
-- extract exist on DuckDB and PostgreSQL); the month name comes from a dispatched macro.
with bounds as (
    select min(order_date) as first_day, max(order_date) as last_day from {{ ref('stg_shop_orders') }}
),
days as (
    select cast(t.d as date) as date_value
    from bounds
    cross join generate_series(
        cast(bounds.first_day as timestamp), cast(bounds.last_day as timestamp), interval '1 day'
    ) as t(d)
)
select
    cast(extract(year from date_value) * 10000 + extract(month from date_value) * 100
         + extract(day from date_value) as integer) as date_key,
    date_value,
    cast(extract(year from date_value) as integer) as year,
    cast(extract(quarter from date_value) as integer) as quarter,
    cast(extract(month from date_value) as integer) as month,
    {{ month_name('date_value') }} as month_name,
    cast(extract(day from date_value) as integer) as day,
    cast(extract(isodow from date_value) as integer) as day_of_week,
    extract(isodow from date_value) >= 6 as is_weekend
from days
order by date_value
