select product_id, sku, product_name, category, subcategory, brand, unit_price, cost, active, created_at
from {{ source('shop', 'products') }}
