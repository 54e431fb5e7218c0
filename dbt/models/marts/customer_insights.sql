-- Per customer: segment, ticket volume, effort, CSAT and its trend, and a churn-risk signal.
-- Windows are measured back from as_of: the last 30/90 days against the 30/90 days before.
-- A customer who opened tickets but is in no reference data (a webhook-fed or replayed ticket whose
-- customer was never imported) is a row too, in the segment 'unknown customer'.
with tickets as (
    select *, {{ as_of() }} as as_of from {{ ref('ticket_analytics') }}
),

known as (
    select * from {{ ref('stg_customers') }}
),

customers as (
    select
        customer_id, segment, plan, region, language, signup_at, lifetime_value,
        true as is_known_customer
    from known
    union all
    select distinct
        tickets.customer_id,
        'unknown customer' as segment,
        'unknown' as plan,
        'unknown' as region,
        null::text as language,
        null::timestamptz as signup_at,
        null::numeric(12, 2) as lifetime_value,
        false as is_known_customer
    from tickets
    where not exists (select 1 from known where known.customer_id = tickets.customer_id)
),

behaviour as (
    select
        customer_id,
        count(*) as tickets_total,
        count(*) filter (where created_at > as_of - interval '30 days') as tickets_last_30d,
        count(*) filter (
            where created_at <= as_of - interval '30 days' and created_at > as_of - interval '60 days'
        ) as tickets_previous_30d,
        min(created_at) as first_ticket_at,
        max(created_at) as last_ticket_at,
        avg(customer_effort) as avg_customer_effort,
        count(*) filter (where reopen_count > 0 and first_resolved_at is not null)::numeric
            / nullif(count(*) filter (where first_resolved_at is not null), 0) as reopen_rate,
        avg(transfer_count) as avg_transfers,
        avg(first_reply_minutes) as avg_first_reply_minutes,
        count(csat_rating) as csat_responses,
        avg(is_satisfied::integer) as csat_score,
        avg(is_satisfied::integer) filter (where csat_submitted_at > as_of - interval '90 days')
            as csat_last_90d,
        avg(is_satisfied::integer) filter (
            where csat_submitted_at <= as_of - interval '90 days'
              and csat_submitted_at > as_of - interval '180 days'
        ) as csat_previous_90d,
        count(*) filter (where is_first_reply_breached or is_resolution_breached) as breached_tickets
    from tickets
    group by customer_id
),

scored as (
    select
        customers.customer_id,
        customers.segment,
        customers.plan,
        customers.region,
        customers.language,
        customers.signup_at,
        customers.lifetime_value,
        customers.is_known_customer,
        coalesce(behaviour.tickets_total, 0) as tickets_total,
        coalesce(behaviour.tickets_last_30d, 0) as tickets_last_30d,
        coalesce(behaviour.tickets_previous_30d, 0) as tickets_previous_30d,
        behaviour.first_ticket_at,
        behaviour.last_ticket_at,
        behaviour.avg_customer_effort,
        behaviour.reopen_rate,
        behaviour.avg_transfers,
        behaviour.avg_first_reply_minutes,
        coalesce(behaviour.csat_responses, 0) as csat_responses,
        behaviour.csat_score,
        behaviour.csat_last_90d,
        behaviour.csat_previous_90d,
        behaviour.csat_last_90d - behaviour.csat_previous_90d as csat_trend,
        coalesce(behaviour.breached_tickets, 0) as breached_tickets
    from customers
    left join behaviour using (customer_id)
),

signals as (
    select
        *,
        -- One point each: unhappy lately, CSAT falling, high effort, repeat reopens, volume rising sharply.
        (
            (coalesce(csat_last_90d, 1) < 0.5)::integer
            + (coalesce(csat_trend, 0) <= -0.25)::integer
            + (coalesce(avg_customer_effort, 0) >= 2)::integer
            + (coalesce(reopen_rate, 0) >= 0.3)::integer
            + (tickets_last_30d >= 3 and tickets_last_30d >= 2 * tickets_previous_30d)::integer
        ) as churn_risk_score
    from scored
)

select *, churn_risk_score >= 2 as is_churn_risk
from signals
