{#- A view replaced in place: CREATE OR REPLACE keeps the view's identity, its grants and every view built on
    it, and refuses to rename or drop a column, which is exactly the additive rule of the analytics interface
    (columns may be added at the end, never renamed or dropped). -#}
{% materialization stable_view, adapter='postgres' %}
  {%- set target_relation = this.incorporate(type='view') -%}
  {%- set existing = adapter.get_relation(database=this.database, schema=this.schema, identifier=this.identifier) -%}
  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}
  {%- if existing is not none and not existing.is_view -%}
    {{ adapter.drop_relation(existing) }}
  {%- endif -%}
  {% call statement('main') -%}
    create or replace view {{ target_relation }} as (
      {{ sql }}
    )
  {%- endcall %}
  {% do persist_docs(target_relation, model) %}
  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {% do adapter.commit() %}
  {{ run_hooks(post_hooks, inside_transaction=False) }}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
