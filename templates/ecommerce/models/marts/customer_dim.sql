-- Slowly changing dimension (type 2): one row per customer version, valid from its update until
-- the next one. A customer's first version is valid from the beginning, so orders placed before
-- the first recorded update still find their customer.
with versions as (
    select
        *,
        row_number() over (partition by customer_id order by updated_at) as version,
        lead(updated_at) over (partition by customer_id order by updated_at) as next_update
    from {{ ref('stg_shop_customers') }}
)
select
    row_number() over (order by customer_id, updated_at) as customer_key,
    customer_id,
    full_name,
    email,
    city,
    state,
    postal_code,
    segment,
    signup_date,
    case when version = 1 then timestamp '1900-01-01' else updated_at end as valid_from,
    coalesce(next_update, timestamp '9999-12-31') as valid_to,
    next_update is null as is_current
from versions
