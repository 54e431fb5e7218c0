-- One row per ticket with its SLA and response metrics; breaches measured at as_of.
with lifecycle as (
    select * from {{ ref('int_ticket_lifecycle') }}
),

measured as (
    select
        *,
        {{ as_of() }} as measured_at
    from lifecycle
)

select
    ticket_id,
    customer_id,
    channel,
    priority,
    language,
    category,
    has_category_correction,
    status,
    status not in ('solved', 'closed') as is_backlog,
    created_at,
    first_reply_at,
    first_reply_agent_id,
    first_resolved_at,
    full_resolved_at,
    {{ minutes_between('created_at', 'first_reply_at') }} as first_reply_minutes,
    {{ minutes_between('created_at', 'first_resolved_at') }} as first_resolution_minutes,
    {{ minutes_between('created_at', 'full_resolved_at') }} as full_resolution_minutes,
    first_reply_due_at,
    first_reply_due_business_at,
    resolution_due_at,
    resolution_due_business_at,
    coalesce(first_reply_at > first_reply_due_at
        or (first_reply_at is null and measured_at > first_reply_due_at), false) as is_first_reply_breached,
    coalesce(first_reply_at > first_reply_due_business_at
        or (first_reply_at is null and measured_at > first_reply_due_business_at), false)
        as is_first_reply_business_breached,
    coalesce(first_resolved_at > resolution_due_at
        or (first_resolved_at is null and measured_at > resolution_due_at), false) as is_resolution_breached,
    coalesce(first_resolved_at > resolution_due_business_at
        or (first_resolved_at is null and measured_at > resolution_due_business_at), false)
        as is_resolution_business_breached,
    agent_reply_count,
    customer_reply_count,
    reopen_count,
    reopen_count > 0 as is_reopened,
    assignment_count,
    transfer_count,
    transfer_count > 0 as is_transferred,
    assigned_agent_id,
    customer_reply_count + reopen_count as customer_effort,
    csat_rating,
    csat_rating >= 4 as is_satisfied,
    csat_submitted_at,
    measured_at
from measured
