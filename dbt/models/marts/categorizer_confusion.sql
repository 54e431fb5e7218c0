-- The confusion matrix: labelled tickets per day, source, true category (the one agents settled
-- on) and predicted category. source = 'model': the stream categorizer's first prediction
-- ('abstained' when it gave none); source = 'first_guess': the category an agent first saw
-- (label events alone; 'unknown' when a correction does not name the guess). The day is the
-- ticket's creation day (UTC), as in categorizer_performance.
-- Pre-aggregated and indexed for the dashboard's date-range reads.
{{ config(indexes=[{'columns': ['source', 'activity_date']}]) }}

with tickets as (
    select * from {{ ref('int_ticket_categorization') }}
    where true_category is not null
),

pairs as (
    select
        (ticket_created_at at time zone 'UTC')::date as activity_date,
        'model' as source,
        true_category,
        coalesce(predicted_category, 'abstained') as predicted_category
    from tickets
    where predicted_at is not null

    union all

    select
        (ticket_created_at at time zone 'UTC')::date,
        'first_guess',
        true_category,
        first_guess_category
    from tickets
)

select
    {{ surrogate_key("activity_date::text || '|' || source || '|' || true_category", 'predicted_category') }}
        as confusion_cell_id,
    activity_date,
    source,
    true_category,
    predicted_category,
    count(*) as tickets
from pairs
group by activity_date, source, true_category, predicted_category
