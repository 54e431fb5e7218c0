-- The status timeline of each ticket as consecutive spans (the last one open-ended).
-- created and reopened set the status to open; status_changed sets it. Order: time, then event id.
{{ config(materialized='incremental', unique_key='ticket_id', incremental_strategy='delete+insert') }}

with events as (
    select * from {{ ref('stg_ticket_events') }}
    {{ changed_tickets_filter() }}
),

watermarks as (
    select ticket_id, max(ingested_at) as last_ingested_at
    from events
    group by ticket_id
),

changes as (
    select
        ticket_id,
        event_id,
        occurred_at,
        case when event_type in ('ticket.created', 'ticket.reopened') then 'open' else status end as status
    from events
    where event_type in ('ticket.created', 'ticket.reopened', 'ticket.status_changed')
),

spans as (
    select
        ticket_id,
        row_number() over timeline as span_number,
        status,
        lag(status) over timeline as previous_status,
        occurred_at as valid_from,
        lead(occurred_at) over timeline as valid_to
    from changes
    window timeline as (partition by ticket_id order by occurred_at, event_id)
)

select
    spans.*,
    spans.valid_to is null as is_current,
    watermarks.last_ingested_at
from spans
inner join watermarks using (ticket_id)
