{#- Local stand-in for dbt_utils.expression_is_true (dbt Hub is unreachable): rows where the expression fails. -#}
{% test expression_is_true(model, expression) %}
select * from {{ model }} where not ({{ expression }})
{% endtest %}
