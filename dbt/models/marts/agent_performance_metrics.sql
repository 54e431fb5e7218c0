-- Per support agent per UTC day: tickets handled, first reply and resolution times, CSAT, occupancy.
-- Occupancy = ticket-holding minutes / (logged-in minutes x capacity), capped at 1.
with tickets as (
    select * from {{ ref('ticket_analytics') }}
),

replies as (
    select agent_id, (occurred_at at time zone 'UTC')::date as activity_date, ticket_id
    from {{ ref('stg_ticket_events') }}
    where event_type = 'ticket.agent_replied' and is_public
),

handled as (
    select
        agent_id,
        activity_date,
        count(distinct ticket_id) as tickets_handled,
        count(*) as public_replies
    from replies
    group by 1, 2
),

first_replies as (
    select
        first_reply_agent_id as agent_id,
        (first_reply_at at time zone 'UTC')::date as activity_date,
        count(*) as first_replies,
        avg(first_reply_minutes) as avg_first_reply_minutes,
        avg((not is_first_reply_breached)::integer) as first_reply_service_level
    from tickets
    where first_reply_agent_id is not null
    group by 1, 2
),

resolutions as (
    select
        assigned_agent_id as agent_id,
        (first_resolved_at at time zone 'UTC')::date as activity_date,
        count(*) as tickets_resolved,
        avg(first_resolution_minutes) as avg_first_resolution_minutes
    from tickets
    where first_resolved_at is not null and assigned_agent_id is not null
    group by 1, 2
),

ratings as (
    select
        assigned_agent_id as agent_id,
        (csat_submitted_at at time zone 'UTC')::date as activity_date,
        count(*) as csat_responses,
        avg(is_satisfied::integer) as csat_score
    from tickets
    where csat_rating is not null and assigned_agent_id is not null
    group by 1, 2
),

minutes as (
    select * from {{ ref('int_agent_daily_minutes') }}
),

agent_days as (
    select agent_id, activity_date from handled
    union select agent_id, activity_date from first_replies
    union select agent_id, activity_date from resolutions
    union select agent_id, activity_date from ratings
    union select agent_id, activity_date from minutes
),

agents as (
    select agent_id, team, capacity from {{ ref('stg_agents') }}
)

select
    {{ surrogate_key('agent_days.agent_id', 'agent_days.activity_date') }} as agent_day_id,
    agent_days.agent_id,
    agent_days.activity_date,
    agents.team,
    coalesce(handled.tickets_handled, 0) as tickets_handled,
    coalesce(handled.public_replies, 0) as public_replies,
    coalesce(first_replies.first_replies, 0) as first_replies,
    first_replies.avg_first_reply_minutes,
    first_replies.first_reply_service_level,
    coalesce(resolutions.tickets_resolved, 0) as tickets_resolved,
    resolutions.avg_first_resolution_minutes,
    coalesce(ratings.csat_responses, 0) as csat_responses,
    ratings.csat_score,
    coalesce(minutes.logged_in_minutes, 0) as logged_in_minutes,
    coalesce(minutes.handling_minutes, 0) as handling_minutes,
    case when minutes.logged_in_minutes > 0
        then least(1.0, minutes.handling_minutes / (minutes.logged_in_minutes * coalesce(agents.capacity, 1)))
    end as occupancy
from agent_days
left join agents using (agent_id)
left join handled using (agent_id, activity_date)
left join first_replies using (agent_id, activity_date)
left join resolutions using (agent_id, activity_date)
left join ratings using (agent_id, activity_date)
left join minutes using (agent_id, activity_date)
