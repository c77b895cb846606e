select
    {{ dbt.hash('product_id') }} as product_key,
    product_id,
    product_name,
    category,
    subcategory,
    brand,
    unit_price
from {{ ref('stg_shop_products') }}
