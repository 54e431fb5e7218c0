with source as (
    select * from {{ source('raw', 'customers') }}
),

renamed as (
    select
        customer_id,
        -- An export may not say; 'unspecified' keeps such customers in every grouping.
        coalesce(segment, 'unspecified') as segment,
        coalesce(plan, 'unspecified') as plan,
        coalesce(region, 'unspecified') as region,
        language,
        signup_at,
        lifetime_value::numeric(12, 2) as lifetime_value,
        loaded_at
    from source
)

select * from renamed
