-- One row per ticket: its ticket.created event, renamed, with its current priority (the latest of
-- the creation's and its ticket.priority_changed events, as in cxa/metrics.py).
with source as (
    select * from {{ source('raw', 'ticket_events') }}
    where event_type = 'ticket.created'
),

renamed as (
    select distinct on (ticket_id)
        ticket_id,
        event_id as created_event_id,
        occurred_at as created_at,
        ingested_at,
        payload ->> 'customer_id' as customer_id,
        payload ->> 'channel' as channel,
        payload ->> 'priority' as created_priority,
        payload ->> 'language' as language,
        payload ->> 'subject' as subject
    from source
    order by ticket_id, occurred_at, event_id
),

current_priority as (
    select distinct on (ticket_id) ticket_id, payload ->> 'priority' as priority
    from {{ source('raw', 'ticket_events') }}
    where event_type in ('ticket.created', 'ticket.priority_changed')
    order by ticket_id, occurred_at desc, event_id desc
)

select renamed.*, current_priority.priority
from renamed
inner join current_priority using (ticket_id)
