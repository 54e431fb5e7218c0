with source as (
    select * from {{ source('raw', 'customers') }}
),

renamed as (
    select
        customer_id,
        segment,
        plan,
        region,
        language,
        signup_at,
        lifetime_value::numeric(12, 2) as lifetime_value,
        loaded_at
    from source
)

select * from renamed
