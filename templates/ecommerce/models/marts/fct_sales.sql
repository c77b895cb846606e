{{ config(
    materialized='incremental',
    unique_key='sale_key',
    incremental_strategy='merge',
    on_schema_change='append_new_columns',
) }}
-- One row per order line (the grain of seed 004's sales_fact). The customer version is the one
-- valid when the order was placed. Incremental: a run merges every line loaded into the lake
-- since the last build (`_loaded_at`, stamped on each processed row), whatever its order date:
-- a late file of old orders, or lines that waited in quarantine for their order, arrive too.
select
    l.line_id as sale_key,
    l.order_id,
    o.order_ts,
    c.customer_key,
    p.product_key,
    loc.location_key,
    d.date_key,
    o.status as order_status,
    l.quantity,
    l.gross_amount,
    l.discount,
    l.tax_amount,
    l.net_amount,
    l._loaded_at
from {{ ref('stg_shop_order_lines') }} as l
join {{ ref('stg_shop_orders') }} as o on o.order_id = l.order_id
join {{ ref('dim_customers') }} as c
  on c.customer_id = o.customer_id and o.order_ts >= c.valid_from and o.order_ts < c.valid_to
join {{ ref('dim_products') }} as p on p.product_id = l.product_id
join {{ ref('dim_locations') }} as loc on loc.location_id = o.location_id
join {{ ref('dim_date') }} as d on d.date_value = o.order_date
{% if var('partition_start', none) %}
-- A partition run (`tributary backfill fct_sales`) rebuilds one day; the merge keeps it idempotent.
where o.order_date >= cast('{{ var("partition_start") }}' as date)
  and o.order_date < cast('{{ var("partition_end") }}' as date)
{% elif is_incremental() %}
-- >= and the merge on sale_key: a batch is never half taken, and never taken twice.
where l._loaded_at >= (
    select coalesce(max(_loaded_at), cast('1970-01-01' as timestamp)) from {{ this }}
)
{% endif %}
