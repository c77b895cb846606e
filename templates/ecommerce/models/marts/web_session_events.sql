{{ config(
    materialized='incremental',
    unique_key='event_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}
-- Every event with the session it belongs to: a visitor's events in time order, a new session
-- after more than 30 minutes without an event (a gap of exactly 30 minutes continues it).
-- Incremental: a run takes every visitor with an event loaded since the last build (`_loaded_at`)
-- and sessionizes all of that visitor's events again, so a late event that bridges or extends
-- sessions re-keys every event it touches; delete+insert by event_id replaces their old rows.
with visitors as (
    select distinct visitor_id
    from {{ ref('stg_web_clickstream') }}
    where visitor_id is not null
{% if is_incremental() %}
      -- >=: the last batch is taken again; re-sessionizing it gives the same rows.
      and _loaded_at >= (
          select coalesce(max(_loaded_at), cast('1970-01-01' as timestamp)) from {{ this }}
      )
{% endif %}
),

events as (
    select e.*
    from {{ ref('stg_web_clickstream') }} as e
    join visitors as v on v.visitor_id = e.visitor_id
),

marked as (
    select
        *,
        case
            when lag(event_ts) over by_visitor is null then 1
            when event_ts > lag(event_ts) over by_visitor + interval '30 minutes' then 1
            else 0
        end as starts_session
    from events
    window by_visitor as (partition by visitor_id order by event_ts, event_id)
),

numbered as (
    select
        *,
        sum(starts_session) over (
            partition by visitor_id order by event_ts, event_id
            rows between unbounded preceding and current row
        ) as session_number
    from marked
)

select
    md5(visitor_id || '|' || cast(session_number as varchar)) as session_key,
    visitor_id,
    session_number,
    event_id,
    session_id,
    customer_id,
    anonymous_id,
    event_type,
    product_id,
    page,
    event_ts,
    _loaded_at
from numbered
