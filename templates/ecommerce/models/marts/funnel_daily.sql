-- The view -> cart -> purchase funnel per day of the session's start: sessions that viewed a
-- product, of those the ones that also added to the cart, of those the ones that also bought.
-- Rates are ratios of the step before (0.25 = 25%); a day without a step's sessions has none.
with steps as (
    select
        session_date,
        product_views > 0 as viewed,
        product_views > 0 and add_to_carts > 0 as carted,
        product_views > 0 and add_to_carts > 0 and purchases > 0 as purchased
    from {{ ref('sessions') }}
)

select
    session_date as day,
    count(*) as sessions,
    count(case when viewed then 1 end) as viewed,
    count(case when carted then 1 end) as carted,
    count(case when purchased then 1 end) as purchased,
    cast(count(case when carted then 1 end) as double precision)
        / nullif(count(case when viewed then 1 end), 0) as view_to_cart_rate,
    cast(count(case when purchased then 1 end) as double precision)
        / nullif(count(case when carted then 1 end), 0) as cart_to_purchase_rate,
    cast(count(case when purchased then 1 end) as double precision)
        / nullif(count(case when viewed then 1 end), 0) as view_to_purchase_rate
from steps
group by session_date
