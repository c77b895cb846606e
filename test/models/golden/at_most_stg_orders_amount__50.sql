select * from (select * from "<schema>"."stg_orders" where status = 'paid') dbt_subquery where amount > 50
