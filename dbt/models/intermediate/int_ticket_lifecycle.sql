-- One row per ticket: first reply, first/full resolution, current status, reopens, transfers,
-- category, CSAT and SLA due times (definitions: cxa/metrics.py).
{{ config(materialized='incremental', unique_key='ticket_id', incremental_strategy='delete+insert') }}

with events as (
    select * from {{ ref('stg_ticket_events') }}
    {{ changed_tickets_filter() }}
),

tickets as (
    select * from {{ ref('stg_tickets') }}
    {{ changed_tickets_filter() }}
),

spans as (
    select * from {{ ref('int_ticket_status_spans') }}
    {{ changed_tickets_filter() }}
),

solves as (
    select
        ticket_id,
        min(valid_from) as first_resolved_at,
        max(valid_from) as last_resolved_at,
        count(*) as solve_count
    from spans
    where status in ('solved', 'closed')
      and coalesce(previous_status, '') not in ('solved', 'closed')
    group by ticket_id
),

current_status as (
    select ticket_id, status
    from spans
    where is_current
),

per_ticket as (
    select
        ticket_id,
        min(occurred_at) filter (where event_type = 'ticket.agent_replied' and is_public) as first_reply_at,
        count(*) filter (where event_type = 'ticket.agent_replied' and is_public) as agent_reply_count,
        count(*) filter (where event_type = 'ticket.customer_replied') as customer_reply_count,
        count(*) filter (where event_type = 'ticket.reopened') as reopen_count,
        count(*) filter (where event_type = 'ticket.assigned') as assignment_count,
        bool_or(event_type = 'ticket.category_corrected') as has_category_correction,
        max(ingested_at) as last_ingested_at
    from events
    group by ticket_id
),

first_replier as (
    select distinct on (ticket_id) ticket_id, agent_id as first_reply_agent_id
    from events
    where event_type = 'ticket.agent_replied' and is_public
    order by ticket_id, occurred_at, event_id
),

last_assignee as (
    select distinct on (ticket_id) ticket_id, agent_id as assigned_agent_id, occurred_at as last_assigned_at
    from events
    where event_type = 'ticket.assigned'
    order by ticket_id, occurred_at desc, event_id desc
),

latest_category as (
    select distinct on (ticket_id) ticket_id, category
    from events
    where event_type in ('ticket.category_confirmed', 'ticket.category_corrected')
    order by ticket_id, occurred_at desc, event_id desc
),

latest_rating as (
    select distinct on (ticket_id) ticket_id, rating as csat_rating, occurred_at as csat_submitted_at
    from events
    where event_type = 'ticket.csat_submitted'
    order by ticket_id, occurred_at desc, event_id desc
),

-- A transfer moves the ticket to another agent; the same assignment sent again moves nothing.
transfers as (
    select ticket_id, count(*) filter (where previous_agent_id <> agent_id) as transfer_count
    from (
        select
            ticket_id,
            agent_id,
            lag(agent_id) over (partition by ticket_id order by occurred_at, event_id) as previous_agent_id
        from events
        where event_type = 'ticket.assigned'
    ) as assignments
    group by ticket_id
),

due as (
    select * from {{ ref('int_ticket_sla_due') }}
)

select
    tickets.ticket_id,
    tickets.customer_id,
    tickets.channel,
    tickets.priority,
    tickets.language,
    latest_category.category,
    coalesce(per_ticket.has_category_correction, false) as has_category_correction,
    tickets.created_at,
    current_status.status,
    per_ticket.first_reply_at,
    first_replier.first_reply_agent_id,
    solves.first_resolved_at,
    case when current_status.status in ('solved', 'closed') then solves.last_resolved_at end as full_resolved_at,
    coalesce(solves.solve_count, 0) as solve_count,
    coalesce(per_ticket.agent_reply_count, 0) as agent_reply_count,
    coalesce(per_ticket.customer_reply_count, 0) as customer_reply_count,
    coalesce(per_ticket.reopen_count, 0) as reopen_count,
    coalesce(per_ticket.assignment_count, 0) as assignment_count,
    coalesce(transfers.transfer_count, 0) as transfer_count,
    last_assignee.assigned_agent_id,
    latest_rating.csat_rating,
    latest_rating.csat_submitted_at,
    due.first_reply_due_at,
    due.first_reply_due_business_at,
    due.resolution_due_at,
    due.resolution_due_business_at,
    per_ticket.last_ingested_at
from tickets
inner join per_ticket using (ticket_id)
left join current_status using (ticket_id)
left join solves using (ticket_id)
left join first_replier using (ticket_id)
left join last_assignee using (ticket_id)
left join latest_category using (ticket_id)
left join latest_rating using (ticket_id)
left join transfers using (ticket_id)
left join due using (ticket_id)
