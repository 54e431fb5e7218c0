-- Time a support agent held a ticket: from its assignment to the next assignment (a transfer)
-- or the first solve after it, whichever is first (an open-ended hold ends at as_of).
with assignments as (
    select
        ticket_id,
        agent_id,
        occurred_at as assigned_at,
        lead(occurred_at) over (partition by ticket_id order by occurred_at, event_id) as transferred_at
    from {{ ref('stg_ticket_events') }}
    where event_type = 'ticket.assigned'
),

solves as (
    select ticket_id, valid_from as solved_at
    from {{ ref('int_ticket_status_spans') }}
    where status in ('solved', 'closed') and coalesce(previous_status, '') not in ('solved', 'closed')
),

ended as (
    select
        assignments.ticket_id,
        assignments.agent_id,
        assignments.assigned_at,
        least(
            coalesce(assignments.transferred_at, 'infinity'::timestamptz),
            coalesce(min(solves.solved_at), 'infinity'::timestamptz),
            {{ as_of() }}
        ) as released_at
    from assignments
    left join solves
        on solves.ticket_id = assignments.ticket_id and solves.solved_at >= assignments.assigned_at
    group by assignments.ticket_id, assignments.agent_id, assignments.assigned_at, assignments.transferred_at
)

select ticket_id, agent_id, assigned_at, greatest(assigned_at, released_at) as released_at
from ended
