-- Lifecycle fields of each customer's current row (dim_customers where is_current), as the CRM
-- sync sends them (syncs/crm_contacts.yml): lifetime value, order count, first and last order
-- date and an RFM segment. Cancelled and returned orders do not count. Recency is measured
-- against the last order date in the data rather than today, so the same data always gives the
-- same segments (and a re-run sends nothing new).
with current_customers as (
    select customer_id, full_name, email, city, state, segment, signup_date
    from {{ ref('dim_customers') }}
    where is_current
),

orders as (
    select
        c.customer_id,
        f.order_id,
        cast(f.order_ts as date) as order_date,
        sum(f.net_amount) as order_value
    from {{ ref('fct_sales') }} as f
    join {{ ref('dim_customers') }} as c on c.customer_key = f.customer_key
    where f.order_status not in ('cancelled', 'returned')
    group by c.customer_id, f.order_id, cast(f.order_ts as date)
),

per_customer as (
    select
        customer_id,
        count(*) as order_count,
        sum(order_value) as lifetime_value,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date
    from orders
    group by customer_id
),

-- Quintiles of recency, frequency and monetary value (5 = best); customer_id breaks ties so
-- the scores do not depend on row order.
scored as (
    select
        *,
        ntile(5) over (order by last_order_date, customer_id) as r_score,
        ntile(5) over (order by order_count, customer_id) as f_score,
        ntile(5) over (order by lifetime_value, customer_id) as m_score
    from per_customer
)

select
    c.customer_id,
    c.email,
    split_part(c.full_name, ' ', 1) as first_name,
    trim(substr(c.full_name, length(split_part(c.full_name, ' ', 1)) + 1)) as last_name,
    c.city,
    c.state,
    c.segment,
    c.signup_date,
    coalesce(s.order_count, 0) as order_count,
    cast(coalesce(s.lifetime_value, 0) as decimal(18, 2)) as lifetime_value,
    s.first_order_date,
    s.last_order_date,
    s.r_score,
    s.f_score,
    s.m_score,
    case
        when s.customer_id is null then 'prospect'
        when s.r_score >= 4 and s.f_score >= 4 and s.m_score >= 4 then 'champion'
        when s.r_score >= 3 and s.f_score >= 3 then 'loyal'
        when s.r_score >= 4 then 'new'
        when s.r_score <= 2 and s.f_score >= 3 then 'at_risk'
        when s.r_score <= 2 then 'hibernating'
        else 'needs_attention'
    end as rfm_segment,
    -- HubSpot's lifecycle stage: a contact who bought is a customer, the others are leads.
    case when s.customer_id is null then 'lead' else 'customer' end as lifecycle_stage
from current_customers as c
left join scored as s on s.customer_id = c.customer_id
