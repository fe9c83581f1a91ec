{#- The model must be empty (used at warn severity on the quarantine). -#}
{% test no_rows(model) %}
select * from {{ model }}
{% endtest %}
