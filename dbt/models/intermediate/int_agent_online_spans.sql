-- When each support agent was logged in: from an online status to the next status change
-- (an open-ended online span ends at as_of).
with changes as (
    select
        agent_id,
        status,
        occurred_at as valid_from,
        lead(occurred_at) over (partition by agent_id order by occurred_at, event_id) as valid_to
    from {{ ref('stg_agent_events') }}
    where event_type = 'agent.status_changed'
)

select
    agent_id,
    valid_from as online_from,
    greatest(valid_from, coalesce(valid_to, {{ as_of() }})) as online_to
from changes
where status = 'online'
