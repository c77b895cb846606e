select
    payment_id,
    order_id,
    cast(amount_cents as decimal(14, 2)) / 100 as amount,
    cast(coalesce(refunded_cents, 0) as decimal(14, 2)) / 100 as refunded_amount,
    upper(currency) as currency,
    to_timestamp(created) as created_at,
    status,
    paid,
    refunded,
    card_brand
from {{ source('payments', 'payments') }}
