{#- A text key from several columns (no package dependency). -#}
{% macro surrogate_key(first, second) -%}
    md5(coalesce({{ first }}::text, '') || '|' || coalesce({{ second }}::text, ''))
{%- endmacro %}
