{#- Plain schema names (staging, intermediate, marts, analytics) as migration 0001 grants them, instead of
    dbt's default <target schema>_<custom schema>. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
  {{ (custom_schema_name or target.schema) | trim }}
{%- endmacro %}
