select id, account, kind, amount
from "<database>"."<schema>_raw"."raw_events"

where id > (select max(id) from "<database>"."<schema>"."events_append")
