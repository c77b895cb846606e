{{ config(materialized='view') }}
-- The funnel over every day at once (a view over funnel_daily): one row.
select
    min(day) as first_day,
    max(day) as last_day,
    coalesce(sum(sessions), 0) as sessions,
    coalesce(sum(viewed), 0) as viewed,
    coalesce(sum(carted), 0) as carted,
    coalesce(sum(purchased), 0) as purchased,
    cast(sum(carted) as double precision) / nullif(sum(viewed), 0) as view_to_cart_rate,
    cast(sum(purchased) as double precision) / nullif(sum(carted), 0) as cart_to_purchase_rate,
    cast(sum(purchased) as double precision) / nullif(sum(viewed), 0) as view_to_purchase_rate
from {{ ref('funnel_daily') }}
