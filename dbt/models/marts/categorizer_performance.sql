-- How well tickets were categorized, per day, source and predicted category.
-- source = 'model': the stream categorizer's first prediction per ticket against the category
--   agents settled on (latest confirmed/corrected); abstentions are counted, not scored.
-- source = 'first_guess': the category an agent first saw, from label events alone: a
--   confirmation means the guess held, a correction that it was wrong (previous_category is the
--   guess). Works even where no model predictions are recorded.
-- activity_date: the ticket's creation day (UTC), for both sources, so they score the same tickets.
-- Definitions per ticket: int_ticket_categorization (shared with categorizer_confusion).
with tickets as (
    select * from {{ ref('int_ticket_categorization') }}
),

scored as (
    select
        (ticket_created_at at time zone 'UTC')::date as activity_date,
        'model' as source,
        model_version,
        coalesce(predicted_category, 'abstained') as predicted_category,
        is_abstained,
        true_category is not null and not is_abstained as is_labelled,
        predicted_category = true_category as is_correct,
        confidence,
        latency_ms
    from tickets
    where predicted_at is not null

    union all

    select
        (ticket_created_at at time zone 'UTC')::date,
        'first_guess',
        'n/a',
        first_guess_category,
        false,
        true,
        is_first_guess_confirmed,
        null::double precision,
        null::double precision
    from tickets
    where first_labelled_at is not null
)

select
    {{ surrogate_key("activity_date::text || source || model_version", 'predicted_category') }}
        as categorizer_day_id,
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
