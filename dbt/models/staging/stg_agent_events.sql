with source as (
    select * from {{ source('raw', 'agent_events') }}
),

renamed as (
    select
        event_id,
        event_type,
        schema_version,
        agent_id,
        occurred_at,
        ingested_at,
        payload ->> 'status' as status,
        (payload ->> 'capacity')::integer as capacity
    from source
)

select * from renamed
