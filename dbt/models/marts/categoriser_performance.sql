-- How well tickets were categorised, per day, source and predicted category.
-- source = 'model': the stream categoriser's first prediction per ticket against the category
--   agents settled on (latest confirmed/corrected); abstentions are counted, not scored.
-- source = 'first_guess': the category an agent first saw, from label events alone: a
--   confirmation means the guess held, a correction that it was wrong (previous_category is the
--   guess). Works even where no model predictions are recorded.
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
        occurred_at,
        event_type = 'ticket.category_confirmed' as is_correct,
        case when event_type = 'ticket.category_confirmed' then category
            else coalesce(previous_category, 'unknown') end as predicted_category
    from label_events
    order by ticket_id, occurred_at, event_id
),

first_predictions as (
    select distinct on (ticket_id) *
    from {{ ref('stg_ticket_categorizations') }}
    order by ticket_id, predicted_at, categorization_id
),

scored as (
    select
        (first_predictions.predicted_at at time zone 'UTC')::date as activity_date,
        'model' as source,
        first_predictions.model_version,
        coalesce(first_predictions.predicted_category, 'abstained') as predicted_category,
        first_predictions.is_abstained,
        settled.true_category is not null and not first_predictions.is_abstained as is_labelled,
        first_predictions.predicted_category = settled.true_category as is_correct,
        first_predictions.confidence,
        first_predictions.latency_ms
    from first_predictions
    left join settled using (ticket_id)

    union all

    select
        (occurred_at at time zone 'UTC')::date,
        'first_guess',
        'n/a',
        predicted_category,
        false,
        true,
        is_correct,
        null::double precision,
        null::double precision
    from first_labels
)

select
    {{ surrogate_key("activity_date::text || source || model_version", 'predicted_category') }}
        as categoriser_day_id,
    activity_date,
    source,
    model_version,
    predicted_category,
    count(*) as predictions,
    count(*) filter (where is_abstained) as abstentions,
    count(*) filter (where is_labelled) as labelled,
    count(*) filter (where is_labelled and is_correct) as correct_predictions,
    count(*) filter (where is_labelled and not is_correct) as corrections,
    avg(is_correct::integer) filter (where is_labelled) as precision,
    avg(confidence) as avg_confidence,
    avg(latency_ms) as avg_latency_ms
from scored
group by activity_date, source, model_version, predicted_category
