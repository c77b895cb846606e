{% snapshot customers_snapshot %}
{{ config(
    target_schema='snapshots',
    unique_key='customer_id',
    strategy='timestamp',
    updated_at='updated_at',
    invalidate_hard_deletes=True,
) }}
-- The app database shows each customer's current record; the snapshot keeps every version it
-- has seen (the seeds' SCD2). Each run adds the versions that changed since the last.
select *
from (
    select
        *,
        row_number() over (partition by customer_id order by updated_at desc) as recency
    from {{ ref('stg_shop_customers') }}
) as latest
where recency = 1
{% endsnapshot %}
