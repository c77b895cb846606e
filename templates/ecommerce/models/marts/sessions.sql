-- One row per visit: a visitor's events with no gap over 30 minutes (see web_session_events).
-- converted: the visit ended in a purchase. A table rebuilt from web_session_events on each run
-- (a group-by; the sessionizing itself is incremental there), so sessions that a late event
-- merged or split never linger.
select
    session_key,
    visitor_id,
    session_number,
    max(customer_id) as customer_id,
    min(event_ts) as session_start,
    max(event_ts) as session_end,
    cast(min(event_ts) as date) as session_date,
    round(extract(epoch from max(event_ts)) - extract(epoch from min(event_ts)), 3) as duration_seconds,
    count(*) as events,
    count(distinct page) as pages,
    count(case when event_type = 'page_view' then 1 end) as page_views,
    count(case when event_type = 'product_view' then 1 end) as product_views,
    count(case when event_type = 'add_to_cart' then 1 end) as add_to_carts,
    count(case when event_type = 'checkout_start' then 1 end) as checkouts,
    count(case when event_type = 'purchase' then 1 end) as purchases,
    count(case when event_type = 'purchase' then 1 end) > 0 as converted,
    max(_loaded_at) as _loaded_at
from {{ ref('web_session_events') }}
group by session_key, visitor_id, session_number
