-- Per ticket: when each SLA clock reaches the priority's first-reply and resolution targets.
-- depends_on: {{ ref('stg_ticket_events') }}
{{ config(materialized='incremental', unique_key='ticket_id', incremental_strategy='delete+insert') }}

with clock as (
    select * from {{ ref('int_ticket_sla_clock') }}
    {{ changed_tickets_filter() }}
),

tickets as (
    select tickets.ticket_id, policies.first_reply_minutes, policies.resolution_minutes
    from {{ ref('stg_tickets') }} as tickets
    inner join {{ ref('sla_policies') }} as policies using (priority)
),

reached as (
    select
        clock.ticket_id,
        clock.clock,
        min(
            case when clock.elapsed_minutes >= tickets.first_reply_minutes
                then clock.window_from
                    + (tickets.first_reply_minutes - (clock.elapsed_minutes - clock.window_minutes))
                    * interval '1 minute'
            end
        ) as first_reply_due_at,
        min(
            case when clock.elapsed_minutes >= tickets.resolution_minutes
                then clock.window_from
                    + (tickets.resolution_minutes - (clock.elapsed_minutes - clock.window_minutes))
                    * interval '1 minute'
            end
        ) as resolution_due_at,
        max(clock.last_ingested_at) as last_ingested_at
    from clock
    inner join tickets using (ticket_id)
    group by clock.ticket_id, clock.clock
)

select
    ticket_id,
    max(first_reply_due_at) filter (where clock = 'calendar') as first_reply_due_at,
    max(first_reply_due_at) filter (where clock = 'business') as first_reply_due_business_at,
    max(resolution_due_at) filter (where clock = 'calendar') as resolution_due_at,
    max(resolution_due_at) filter (where clock = 'business') as resolution_due_business_at,
    max(last_ingested_at) as last_ingested_at
from reached
group by ticket_id
