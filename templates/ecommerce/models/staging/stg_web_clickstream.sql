select event_id, session_id, customer_id, anonymous_id, event_type, product_id, page, event_ts, cast(event_ts as date) as event_date
from {{ source('web', 'clickstream') }}
