select
    {{ dbt.hash('location_id') }} as location_key,
    location_id,
    store_name,
    channel,
    city,
    state,
    postal_code,
    region,
    country
from {{ ref('stg_shop_stores') }}
