with source as (
    select * from {{ source('raw', 'ticket_categorizations') }}
),

renamed as (
    select
        event_id as categorization_id,
        ticket_id,
        category as predicted_category,
        category is null as is_abstained,
        confidence,
        model_version,
        latency_ms,
        predicted_at,
        ticket_created_at,
        ingested_at
    from source
)

select * from renamed
