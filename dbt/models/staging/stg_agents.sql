with source as (
    select * from {{ source('raw', 'agents') }}
),

renamed as (
    select
        agent_id,
        name as agent_name,
        team,
        skills,
        languages,
        capacity,
        shift_start,
        shift_hours::numeric(4, 2) as shift_hours,
        work_days,
        hired_at,
        loaded_at
    from source
)

select * from renamed
