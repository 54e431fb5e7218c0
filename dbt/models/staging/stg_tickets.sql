-- One row per ticket: its ticket.created event, renamed.
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
        payload ->> 'priority' as priority,
        payload ->> 'language' as language,
        payload ->> 'subject' as subject
    from source
    order by ticket_id, occurred_at, event_id
)

select * from renamed
