with __dbt__cte__int_paid_orders as (
select order_id, customer_id, amount
from "<database>"."<schema>"."stg_orders"
where status = 'paid'
),
__dbt__cte__int_customer_totals as (
select customer_id, sum(amount) as revenue, count(*) as paid_orders
from __dbt__cte__int_paid_orders
group by customer_id
),
customers as (
    select * from "<database>"."<schema>"."stg_customers"
)
select
    customers.customer_id,
    customers.name,
    coalesce(t.revenue, 0) as revenue,
    coalesce(t.paid_orders, 0) as paid_orders
from customers
left join __dbt__cte__int_customer_totals as t on t.customer_id = customers.customer_id
