-- When each ticket's SLA clock runs: open spans (paused while pending/on hold, stopped while
-- solved/closed), the open-ended one cut at the horizon. The calendar clock counts every minute,
-- the business clock only Monday-Friday 09:00-17:00 UTC.
-- depends_on: {{ ref('stg_ticket_events') }}
{{ config(materialized='incremental', unique_key='ticket_id', incremental_strategy='delete+insert') }}

{% set horizon_days = 60 %}

with spans as (
    select * from {{ ref('int_ticket_status_spans') }}
    {{ changed_tickets_filter() }}
),

running as (
    select
        ticket_id,
        valid_from as run_from,
        coalesce(valid_to, valid_from + interval '{{ horizon_days }} days') as run_to,
        last_ingested_at
    from spans
    where status = 'open'
),

calendar_windows as (
    select ticket_id, 'calendar' as clock, run_from as window_from, run_to as window_to, last_ingested_at
    from running
),

days as (
    select running.*, day
    from running
    cross join lateral generate_series(
        date_trunc('day', running.run_from at time zone 'UTC'),
        date_trunc('day', running.run_to at time zone 'UTC'),
        interval '1 day'
    ) as day
    where extract(isodow from day) between 1 and 5
),

business_windows as (
    select
        ticket_id,
        'business' as clock,
        greatest(run_from, (day + interval '9 hours') at time zone 'UTC') as window_from,
        least(run_to, (day + interval '17 hours') at time zone 'UTC') as window_to,
        last_ingested_at
    from days
),

windows as (
    select * from calendar_windows where window_to > window_from
    union all
    select * from business_windows where window_to > window_from
)

select
    ticket_id,
    clock,
    window_from,
    window_to,
    {{ minutes_between('window_from', 'window_to') }} as window_minutes,
    sum({{ minutes_between('window_from', 'window_to') }}) over (
        partition by ticket_id, clock order by window_from rows between unbounded preceding and current row
    ) as elapsed_minutes,
    last_ingested_at
from windows
