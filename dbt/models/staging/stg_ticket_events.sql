with source as (
    select * from {{ source('raw', 'ticket_events') }}
),

renamed as (
    select
        event_id,
        event_type,
        schema_version,
        ticket_id,
        occurred_at,
        ingested_at,
        payload ->> 'customer_id' as customer_id,
        payload ->> 'channel' as channel,
        payload ->> 'priority' as priority,
        payload ->> 'language' as language,
        payload ->> 'category' as category,
        payload ->> 'previous_category' as previous_category,
        payload ->> 'agent_id' as agent_id,
        payload ->> 'policy' as assignment_policy,
        (payload ->> 'is_public')::boolean as is_public,
        payload ->> 'status' as status,
        (payload ->> 'rating')::integer as rating
    from source
)

select * from renamed
