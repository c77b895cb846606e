select id, account, kind, amount
from "<schema>_raw"."raw_events"

where id > (select max(id) from "<schema>"."events_append")
