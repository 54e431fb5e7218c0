{#-
    In an incremental run, keep only tickets with events ingested after the last run's watermark
    (the greatest last_ingested_at already in the model), less a look-back that catches rows a
    slow writer committed late with an older ingested_at. A full refresh processes every ticket.
-#}
{% macro changed_tickets_filter(ticket_column='ticket_id') -%}
    {%- if is_incremental() %}
    where {{ ticket_column }} in (
        select ticket_id
        from {{ ref('stg_ticket_events') }}
        where ingested_at > (
            select coalesce(max(last_ingested_at), '-infinity'::timestamptz) from {{ this }}
        ) - interval '{{ var("incremental_lookback_minutes") }} minutes'
    )
    {%- endif %}
{%- endmacro %}
