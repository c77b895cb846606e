select location_id, store_name, channel, street, city, state, postal_code, region, country
from {{ source('shop', 'stores') }}
