-- One row per site event. visitor_id is who the event belongs to for sessions: the signed-in
-- customer, else the browser's anonymous id (an event with neither has no visitor). arrived_at is
-- when the event reached Tributary: the collector's arrival time for streamed events
-- (`_arrival_ts`), the lake load time for events that came in a file.
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
    coalesce(_arrival_ts, _loaded_at) as arrived_at,
    _loaded_at
from {{ source('web', 'clickstream') }}
