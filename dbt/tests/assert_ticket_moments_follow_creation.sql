-- No reply, solve or due time may come before the ticket was created.
select ticket_id
from {{ ref('ticket_analytics') }}
where first_reply_at < created_at
   or first_resolved_at < created_at
   or full_resolved_at < first_resolved_at
   or first_reply_due_at < created_at
   or resolution_due_at < first_reply_due_at
