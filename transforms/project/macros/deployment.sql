{#- Contract ids of the deployment: `deployer` is a dbt var that transforms.runner sets from the deployment
    (never written into a model). -#}
{% macro bithedge_contract_id(name) -%}
  {{ var('deployer') }}.{{ name }}
{%- endmacro %}

{% macro bithedge_contract_ids() -%}
  {%- for name in event_catalog().keys() -%}
    '{{ bithedge_contract_id(name) }}'{{ ', ' if not loop.last }}
  {%- endfor -%}
{%- endmacro %}
