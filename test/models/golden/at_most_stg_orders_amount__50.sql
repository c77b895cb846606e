select * from (select * from "<database>"."<schema>"."stg_orders" where status = 'paid') dbt_subquery where amount > 50
