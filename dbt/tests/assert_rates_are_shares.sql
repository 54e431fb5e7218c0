-- Every rate and score is a share between 0 and 1.
select 'agent' as source, agent_day_id as id
from {{ ref('agent_performance_metrics') }}
where occupancy not between 0 and 1 or csat_score not between 0 and 1
union all
select 'customer', customer_id
from {{ ref('customer_insights') }}
where csat_score not between 0 and 1 or reopen_rate not between 0 and 1
union all
select 'categorizer', categorizer_day_id
from {{ ref('categorizer_performance') }}
where precision not between 0 and 1 or correct_predictions + corrections <> labelled or labelled > predictions
