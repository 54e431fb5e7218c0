-- Tickets created per UTC hour per queue (channel x category); the forecasts' history.
select
    date_trunc('hour', created_at at time zone 'UTC') at time zone 'UTC' as hour_at,
    channel,
    coalesce(category, 'uncategorized') as category,  -- cxa.marts.UNCATEGORIZED
    count(*) as tickets_created,
    count(*) filter (where priority in ('urgent', 'high')) as urgent_or_high_created
from {{ ref('ticket_analytics') }}
group by 1, 2, 3
