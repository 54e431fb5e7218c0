-- The confusion matrix counts the tickets categorizer_performance scores: per day and source the
-- same labelled tickets (abstentions aside), and the model's diagonal is its correct predictions.
with confusion as (
    select
        activity_date,
        source,
        sum(tickets) filter (where predicted_category <> 'abstained') as labelled,
        sum(tickets) filter (where predicted_category = true_category) as correct
    from {{ ref('categorizer_confusion') }}
    group by activity_date, source
),

performance as (
    select activity_date, source, sum(labelled) as labelled, sum(correct_predictions) as correct
    from {{ ref('categorizer_performance') }}
    group by activity_date, source
)

select activity_date, source
from performance
full outer join confusion using (activity_date, source)
where coalesce(performance.labelled, 0) <> coalesce(confusion.labelled, 0)
   or (source = 'model' and coalesce(performance.correct, 0) <> coalesce(confusion.correct, 0))
