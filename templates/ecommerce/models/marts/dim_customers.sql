-- Slowly changing dimension (type 2) from the customers snapshot: one row per customer version,
-- valid from when the snapshot first saw it until the next version. A customer's first version is
-- valid from the beginning, so orders placed before the first snapshot still find their customer.
with versions as (
    select
        *,
        row_number() over (partition by customer_id order by dbt_valid_from) as version
    from {{ ref('customers_snapshot') }}
)
select
    dbt_scd_id as customer_key,  -- stable across runs, so facts loaded earlier keep pointing here
    customer_id,
    full_name,
    email,
    city,
    state,
    postal_code,
    segment,
    signup_date,
    case when version = 1 then timestamp '1900-01-01' else dbt_valid_from end as valid_from,
    coalesce(dbt_valid_to, timestamp '9999-12-31') as valid_to,
    dbt_valid_to is null as is_current
from versions
