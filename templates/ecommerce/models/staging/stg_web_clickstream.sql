-- One row per site event. visitor_id is who the event belongs to for sessions: the signed-in
-- customer, else the browser's anonymous id (an event with neither has no visitor). _arrival_ts is
-- when the collector took a streamed event (events from files have none; `_loaded_at` says when
-- any event was loaded into the lake).
select
    event_id,
    session_id,
    customer_id,
    anonymous_id,
    case
        when customer_id is not null then 'customer:' || cast(customer_id as varchar)
        when anonymous_id is not null then 'anonymous:' || anonymous_id
    end as visitor_id,
    event_type,
    product_id,
    page,
    event_ts,
    cast(event_ts as date) as event_date,
    _arrival_ts,
    _loaded_at
from {{ source('web', 'clickstream') }}
