{#- The moment breaches and recency windows are measured at: var('as_of') or now. -#}
{% macro as_of() -%}
    {%- if var('as_of', none) -%}
        '{{ var("as_of") }}'::timestamptz
    {%- else -%}
        current_timestamp
    {%- endif -%}
{%- endmacro %}
