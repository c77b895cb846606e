-- One row per customer version (a customer who moved has several).
select
    customer_id,
    trim(coalesce(first_name, '') || ' ' || coalesce(last_name, '')) as full_name,
    lower(email) as email,
    street,
    city,
    state,
    postal_code,
    country,
    segment,
    signup_date,
    updated_at
from {{ source('shop', 'customers') }}
