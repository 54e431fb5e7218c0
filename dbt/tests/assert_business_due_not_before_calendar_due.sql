-- The business clock counts a subset of the calendar clock's minutes, so it can only be due later.
select ticket_id
from {{ ref('ticket_analytics') }}
where first_reply_due_business_at < first_reply_due_at
   or resolution_due_business_at < resolution_due_at
