-- Revenue (net of discounts, before tax), orders and average order value by month.
select
    {{ year_month('d.date_value') }} as month,
    count(distinct f.order_id) as orders,
    sum(f.net_amount) as revenue,
    round(sum(f.net_amount) / count(distinct f.order_id), 2) as avg_order_value
from {{ ref('fct_sales') }} as f
join {{ ref('dim_date') }} as d using (date_key)
group by 1
order by 1
