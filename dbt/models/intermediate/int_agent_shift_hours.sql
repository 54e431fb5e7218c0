-- Scheduled support agents per hour of the week (0 = Monday 00:00 UTC) from the roster's shifts.
with shift_hours as (
    select
        agents.agent_id,
        weekday,
        extract(hour from agents.shift_start)::integer + offset_hour as hour_from_day_start
    from {{ ref('stg_agents') }} as agents
    cross join lateral unnest(agents.work_days) as weekday
    cross join lateral generate_series(0, ceil(agents.shift_hours)::integer - 1) as offset_hour
)

select
    ((weekday - 1) * 24 + hour_from_day_start) % 168 as hour_of_week,
    count(distinct agent_id) as scheduled_agents
from shift_hours
group by 1
