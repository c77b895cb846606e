-- Money stays DECIMAL end to end; net_amount is revenue after discount and before tax.
select
    line_id,
    order_id,
    product_id,
    quantity,
    unit_price,
    quantity * unit_price as gross_amount,
    coalesce(discount, 0) as discount,
    coalesce(tax_amount, 0) as tax_amount,
    quantity * unit_price - coalesce(discount, 0) as net_amount,
    _loaded_at
from {{ source('shop', 'order_lines') }}
