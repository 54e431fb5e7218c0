-- Support agents the roster schedules per hour of the week (0 = Monday 00:00 UTC), all 168 hours.
select
    hours.hour_of_week,
    hours.hour_of_week / 24 + 1 as iso_weekday,
    hours.hour_of_week % 24 as hour_of_day,
    coalesce(shifts.scheduled_agents, 0) as scheduled_agents
from generate_series(0, 167) as hours (hour_of_week)
left join {{ ref('int_agent_shift_hours') }} as shifts using (hour_of_week)
