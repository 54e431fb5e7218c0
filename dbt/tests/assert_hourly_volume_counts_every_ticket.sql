-- The hourly volume mart counts every ticket exactly once.
select 1
from (select sum(tickets_created) as counted from {{ ref('ticket_volume_hourly') }}) as volume
cross join (select count(*) as tickets from {{ ref('ticket_analytics') }}) as tickets
where volume.counted <> tickets.tickets
