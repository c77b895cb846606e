select
    order_id,
    customer_id,
    location_id,
    order_ts,
    cast(order_ts as date) as order_date,
    status,
    channel
from {{ source('shop', 'orders') }}
