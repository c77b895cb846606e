-- One row per order line (the grain of seed 004's sales_fact). The customer version is the one
-- valid when the order was placed.
select
    l.line_id as sale_key,
    l.order_id,
    c.customer_key,
    p.product_key,
    loc.location_key,
    d.date_key,
    o.status as order_status,
    l.quantity,
    l.gross_amount,
    l.discount,
    l.tax_amount,
    l.net_amount
from {{ ref('stg_shop_order_lines') }} as l
join {{ ref('stg_shop_orders') }} as o on o.order_id = l.order_id
join {{ ref('customer_dim') }} as c
  on c.customer_id = o.customer_id and o.order_ts >= c.valid_from and o.order_ts < c.valid_to
join {{ ref('product_dim') }} as p on p.product_id = l.product_id
join {{ ref('location_dim') }} as loc on loc.location_id = o.location_id
join {{ ref('date_dim') }} as d on d.date_value = o.order_date
