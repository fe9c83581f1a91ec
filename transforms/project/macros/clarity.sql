{#- Typed Clarity JSON (stacks.clarity.to_json, stored in raw.events.value): every node is {"type": T, "value": V};
    a print event is a tuple whose fields sit under value.value. -#}

{% macro clarity_field(field, col='value') -%}
  ({{ col }} -> 'value' -> '{{ field }}')
{%- endmacro %}

{% macro clarity_text(field, col='value') -%}
  ({{ col }} -> 'value' -> '{{ field }}' ->> 'value')
{%- endmacro %}

{#- Heights, ids and expiries fit bigint; every other uint is a u128 amount. -#}
{% macro clarity_is_small(field) -%}
  {{ return(field.endswith('height') or field.endswith('-id') or field in ('expiry', 'valid-until')) }}
{%- endmacro %}

{% macro clarity_uint(field, col='value') -%}
  {{ clarity_text(field, col) }}::{{ 'bigint' if clarity_is_small(field) else 'numeric(39, 0)' }}
{%- endmacro %}

{% macro clarity_bool(field, col='value') -%}
  ({{ col }} -> 'value' -> '{{ field }}' -> 'value')::boolean
{%- endmacro %}

{#- An optional (typed JSON {"type": "none"} or {"type": "some", "value": <node>}): the inner value as text, NULL for none. -#}
{% macro clarity_optional_text(field, col='value') -%}
  ({{ col }} -> 'value' -> '{{ field }}' -> 'value' ->> 'value')
{%- endmacro %}

{#- One field as a typed SQL column named like the field (kebab-case -> snake_case). -#}
{% macro clarity_column(field, type, col='value') -%}
  {%- if type in ('uint', 'int') -%} {{ clarity_uint(field, col) }}
  {%- elif type == 'bool' -%} {{ clarity_bool(field, col) }}
  {%- elif type == 'optional' -%} {{ clarity_optional_text(field, col) }}
  {%- else -%} {{ clarity_text(field, col) }}
  {%- endif %} as {{ field | replace('-', '_') }}
{%- endmacro %}

{#- Why a field does not have its catalog type (NULL when it does). The value checks keep every later cast
    safe, so a malformed event is quarantined instead of failing the build. -#}
{% macro clarity_field_problem(field, type, col='value') -%}
  {%- set f = clarity_field(field, col) -%}
  case
    when {{ f }} is null then 'missing field {{ field }}'
    {%- if type == 'optional' %}
    when {{ f }} ->> 'type' not in ('none', 'some') then 'field {{ field }}: expected optional, got ' || coalesce({{ f }} ->> 'type', 'no type')
    when {{ f }} ->> 'type' = 'some' and jsonb_typeof({{ f }} -> 'value' -> 'value') <> 'string' then 'field {{ field }}: some value is not a string'
    {%- else %}
    when {{ f }} ->> 'type' is distinct from '{{ type }}' then 'field {{ field }}: expected {{ type }}, got ' || coalesce({{ f }} ->> 'type', 'no type')
    {%- if type in ('uint', 'int') %}
    when ({{ f }} ->> 'value') !~ '{{ "^[0-9]{1,18}$" if clarity_is_small(field) else ("^-?[0-9]{1,39}$" if type == "int" else "^[0-9]{1,39}$") }}' then 'field {{ field }}: value out of range'
    {%- elif type == 'bool' %}
    when jsonb_typeof({{ f }} -> 'value') <> 'boolean' then 'field {{ field }}: value is not a boolean'
    {%- else %}
    when jsonb_typeof({{ f }} -> 'value') <> 'string' then 'field {{ field }}: value is not a string'
    {%- endif %}
    {%- endif %}
  end
{%- endmacro %}

{#- The first problem of a print event from a BitHedge contract, checked against the catalog (NULL: well formed). -#}
{% macro print_event_problem(contract_col='contract_name', name_col='event_name', col='value') -%}
  case
    when {{ col }} ->> 'type' is distinct from 'tuple' then 'not a tuple'
    when {{ col }} -> 'value' -> 'event' ->> 'type' is distinct from 'string-ascii' then 'no event name'
    {%- for contract, events in event_catalog().items() %}
    {%- for event, fields in events.items() %}
    when {{ contract_col }} = '{{ contract }}' and {{ name_col }} = '{{ event }}' then coalesce(
      {%- for field, type in fields %}
      {{ clarity_field_problem(field, type, col) }}{{ ',' if not loop.last }}
      {%- endfor %})
    {%- endfor %}
    {%- endfor %}
    else 'unknown event ' || coalesce({{ name_col }}, '')
  end
{%- endmacro %}

{#- Every field of a contract's events as typed columns (a field shared by several events appears once). -#}
{% macro decode_contract_fields(contract, col='value') -%}
  {%- set seen = [] -%}
  {%- for event, fields in event_catalog()[contract].items() -%}
    {%- for field, type in fields if field not in seen -%}
      {%- do seen.append(field) %}
      {{ clarity_column(field, type, col) }},
    {%- endfor -%}
  {%- endfor %}
{%- endmacro %}
