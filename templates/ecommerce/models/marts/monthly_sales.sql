{{ config(materialized='view') }}
-- Aggregate view over the fact table (seed 004's materialized views).
select
    d.year,
    d.month,
    count(distinct f.order_id) as orders,
    sum(f.quantity) as units,
    sum(f.net_amount) as revenue
from {{ ref('fct_sales') }} as f
join {{ ref('dim_date') }} as d using (date_key)
group by d.year, d.month
