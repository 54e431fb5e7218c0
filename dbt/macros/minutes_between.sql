{% macro minutes_between(start_column, end_column) -%}
    (extract(epoch from ({{ end_column }} - {{ start_column }})) / 60.0)
{%- endmacro %}
