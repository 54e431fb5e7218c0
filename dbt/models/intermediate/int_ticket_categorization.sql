-- One row per ticket with a category label or a model prediction: what the ticket truly is and
-- what each source said first. Both categorizer marts read it, so they count the same tickets.
-- true_category: the category agents settled on (the latest confirmation/correction).
-- first guess: the category an agent first saw, from label events alone: a confirmation means the
--   guess held, a correction names the guess as previous_category.
-- prediction: the stream categorizer's first prediction (predicted_category null = abstained).
-- ticket_created_at: the ticket's own time, which both marts date a ticket by (a prediction made
--   while a worker replayed a history is computed today, about a ticket of that history): the time
--   the prediction carries, else the ticket.created event's, else the first prediction or label.
with label_events as (
    select *
    from {{ ref('stg_ticket_events') }}
    where event_type in ('ticket.category_confirmed', 'ticket.category_corrected')
),

settled as (
    select distinct on (ticket_id) ticket_id, category as true_category
    from label_events
    order by ticket_id, occurred_at desc, event_id desc
),

first_labels as (
    select distinct on (ticket_id)
        ticket_id,
        occurred_at as first_labelled_at,
        event_type = 'ticket.category_confirmed' as is_first_guess_confirmed,
        case when event_type = 'ticket.category_confirmed' then category
            else coalesce(previous_category, 'unknown') end as first_guess_category
    from label_events
    order by ticket_id, occurred_at, event_id
),

first_predictions as (
    select distinct on (ticket_id) *
    from {{ ref('stg_ticket_categorizations') }}
    order by ticket_id, predicted_at, categorization_id
)

select
    ticket_id,
    coalesce(
        first_predictions.ticket_created_at,
        tickets.created_at,
        least(first_predictions.predicted_at, first_labels.first_labelled_at)
    ) as ticket_created_at,
    settled.true_category,
    first_labels.first_labelled_at,
    first_labels.first_guess_category,
    first_labels.is_first_guess_confirmed,
    first_predictions.predicted_at,
    first_predictions.model_version,
    first_predictions.predicted_category,
    first_predictions.is_abstained,
    first_predictions.confidence,
    first_predictions.latency_ms
from settled
inner join first_labels using (ticket_id)
full outer join first_predictions using (ticket_id)
left join {{ ref('stg_tickets') }} as tickets using (ticket_id)
