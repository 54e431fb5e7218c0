-- Full resolution exists exactly for tickets that are solved or closed now.
select ticket_id
from {{ ref('ticket_analytics') }}
where (full_resolved_at is not null) <> (status in ('solved', 'closed'))
