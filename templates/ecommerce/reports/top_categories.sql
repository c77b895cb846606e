select
    p.category,
    sum(f.net_amount) as revenue,
    sum(f.quantity) as units,
    round(100 * sum(f.net_amount) / sum(sum(f.net_amount)) over (), 1) as revenue_share_pct
from {{ ref('fct_sales') }} as f
join {{ ref('dim_products') }} as p using (product_key)
group by 1
order by revenue desc
limit 10
