-- One row per calendar day from the first to the last order.
with bounds as (
    select min(order_date) as first_day, max(order_date) as last_day from {{ ref('stg_shop_orders') }}
),
days as (
    select cast(d as date) as date_value
    from bounds, range(bounds.first_day, bounds.last_day + interval 1 day, interval 1 day) as t(d)
)
select
    cast(strftime(date_value, '%Y%m%d') as integer) as date_key,
    date_value,
    year(date_value) as year,
    quarter(date_value) as quarter,
    month(date_value) as month,
    strftime(date_value, '%B') as month_name,
    day(date_value) as day,
    isodow(date_value) as day_of_week,
    isodow(date_value) >= 6 as is_weekend
from days
order by date_value
