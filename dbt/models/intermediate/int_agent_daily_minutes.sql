-- Logged-in and ticket-holding minutes per support agent per UTC day (spans split at midnight).
with online_days as (
    select
        spans.agent_id,
        day::date as activity_date,
        {{ minutes_between(
            "greatest(spans.online_from, day at time zone 'UTC')",
            "least(spans.online_to, (day + interval '1 day') at time zone 'UTC')"
        ) }} as minutes
    from {{ ref('int_agent_online_spans') }} as spans
    cross join lateral generate_series(
        date_trunc('day', spans.online_from at time zone 'UTC'),
        date_trunc('day', spans.online_to at time zone 'UTC'),
        interval '1 day'
    ) as day
),

handling_days as (
    select
        spans.agent_id,
        day::date as activity_date,
        {{ minutes_between(
            "greatest(spans.assigned_at, day at time zone 'UTC')",
            "least(spans.released_at, (day + interval '1 day') at time zone 'UTC')"
        ) }} as minutes
    from {{ ref('int_agent_handling_spans') }} as spans
    cross join lateral generate_series(
        date_trunc('day', spans.assigned_at at time zone 'UTC'),
        date_trunc('day', spans.released_at at time zone 'UTC'),
        interval '1 day'
    ) as day
),

online as (
    select agent_id, activity_date, sum(greatest(minutes, 0)) as logged_in_minutes
    from online_days group by 1, 2
),

handling as (
    select agent_id, activity_date, sum(greatest(minutes, 0)) as handling_minutes
    from handling_days group by 1, 2
)

select
    agent_id,
    activity_date,
    coalesce(online.logged_in_minutes, 0) as logged_in_minutes,
    coalesce(handling.handling_minutes, 0) as handling_minutes
from online
full outer join handling using (agent_id, activity_date)
