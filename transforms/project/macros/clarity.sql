{#- Typed Clarity JSON (stacks.clarity.to_json, stored in raw.events.value): every node is {"type": T, "value": V};
    a print event is a tuple whose fields sit under value.value. The getters take that field map (`fields`),
    which staging reads out of the stored value once per event (stg_bithedge_prints). -#}

{% macro clarity_field(field, fields="(value -> 'value')") -%}
  ({{ fields }} -> '{{ field }}')
{%- endmacro %}

{% macro clarity_text(field, fields="(value -> 'value')") -%}
  ({{ fields }} -> '{{ field }}' ->> 'value')
{%- endmacro %}

{#- Heights, ids and expiries fit bigint; every other uint is a u128 amount. -#}
{% macro clarity_is_small(field) -%}
  {{ return(field.endswith('height') or field.endswith('-id') or field in ('expiry', 'valid-until')) }}
{%- endmacro %}

{% macro clarity_uint(field, fields="(value -> 'value')") -%}
  {{ clarity_text(field, fields) }}::{{ 'bigint' if clarity_is_small(field) else 'numeric(39, 0)' }}
{%- endmacro %}

{% macro clarity_bool(field, fields="(value -> 'value')") -%}
  ({{ fields }} -> '{{ field }}' -> 'value')::boolean
{%- endmacro %}

{#- An optional (typed JSON {"type": "none"} or {"type": "some", "value": <node>}): the inner value as text, NULL for none. -#}
{% macro clarity_optional_text(field, fields="(value -> 'value')") -%}
  ({{ fields }} -> '{{ field }}' -> 'value' ->> 'value')
{%- endmacro %}

{#- One field as a typed SQL column named like the field (kebab-case -> snake_case). -#}
{% macro clarity_column(field, type, fields) -%}
  {%- if type in ('uint', 'int') -%} {{ clarity_uint(field, fields) }}
  {%- elif type == 'bool' -%} {{ clarity_bool(field, fields) }}
  {%- elif type == 'optional' -%} {{ clarity_optional_text(field, fields) }}
  {%- else -%} {{ clarity_text(field, fields) }}
  {%- endif %} as {{ field | replace('-', '_') }}
{%- endmacro %}

{#- Why a field does not have its catalog type (NULL when it does). The value checks keep every later cast
    safe, so a malformed event is quarantined instead of failing the build. -#}
{% macro clarity_field_problem(field, type, col='value') -%}
  {%- set f = clarity_field(field, '(' ~ col ~ " -> 'value')") -%}
  case
    when {{ f }} is null then 'missing field {{ field }}'
    {%- if type == 'optional' %}
    when {{ f }} ->> 'type' not in ('none', 'some') then 'field {{ field }}: expected optional, got ' || coalesce({{ f }} ->> 'type', 'no type')
    when {{ f }} ->> 'type' = 'some' and jsonb_typeof({{ f }} -> 'value' -> 'value') <> 'string' then 'field {{ field }}: some value is not a string'
    {%- else %}
    when {{ f }} ->> 'type' is distinct from '{{ type }}' then 'field {{ field }}: expected {{ type }}, got ' || coalesce({{ f }} ->> 'type', 'no type')
    {%- if type in ('uint', 'int') %}
    when ({{ f }} ->> 'value') !~ '^{{ clarity_sign(type) }}[0-9]{1,{{ clarity_most_digits(field) }}}$' then 'field {{ field }}: value out of range'
    {%- elif type == 'bool' %}
    when jsonb_typeof({{ f }} -> 'value') <> 'boolean' then 'field {{ field }}: value is not a boolean'
    {%- else %}
    when jsonb_typeof({{ f }} -> 'value') <> 'string' then 'field {{ field }}: value is not a string'
    {%- endif %}
    {%- endif %}
  end
{%- endmacro %}

{#- The first problem of a print event from a BitHedge contract, checked against the catalog (NULL: well formed).
    The field-by-field checks (print_event_reason) run a bounded regex per uint (`^[0-9]{1,39}$`, ~30 µs each in
    Postgres' regex engine, 30 of them for a policy-created print), so the verdict takes a fast path with the
    same checks in bulk: the event's key in one simple CASE (evaluated once), every type tag in one containment
    test, the digits of each kind of uint in two unbounded regexes, the other values' JSON types in one jsonpath,
    all on the field map read once (`fields`, NULL unless the value is a tuple, so a non-tuple fails here too).
    Only an event it refuses pays for the field-by-field reason (transforms/README.md, "Session 5", has the
    measurements). -#}
{#- `only`: the checks of one contract's events (a contract's staging model, whose planning then skips the rest). -#}
{% macro print_event_problem(contract_col='contract_name', name_col='event_name', col='value', fields='fields',
                             only=none) -%}
  case
    when (case {{ contract_col }} || ' ' || {{ name_col }}
    {%- for contract, events in event_catalog().items() if only is none or contract == only %}
    {%- for event, event_fields in events.items() %}
      when '{{ contract }} {{ event }}' then {{ print_event_well_formed(event_fields, fields) }}
    {%- endfor %}
    {%- endfor %}
    end) then null
    else {{ print_event_reason(contract_col, name_col, col, only) }}
  end
{%- endmacro %}

{#- The checks of clarity_field_problem for every field of one event, as a few bulk tests (true: well formed). -#}
{% macro print_event_well_formed(event_fields, fields) -%}
  {%- set tags = {'event': {'type': 'string-ascii'}} -%}
  {%- set digits = {} -%}
  {%- set shapes = [] -%}
  {%- for field, type in event_fields -%}
    {%- set f = '$."' ~ field ~ '"' -%}
    {%- if type == 'optional' -%}
      {%- do shapes.append('(' ~ f ~ '."type" == "none" || (' ~ f ~ '."type" == "some" && ' ~ f
                           ~ '."value"."value".type() == "string"))') -%}
    {%- else -%}
      {%- do tags.update({field: {'type': type}}) -%}
      {%- if type in ('uint', 'int') -%}
        {%- do digits.setdefault(clarity_sign(type) ~ ' ' ~ clarity_most_digits(field), []).append(field) -%}
      {%- else -%}
        {%- do shapes.append(f ~ '."value".type() == "' ~ ('boolean' if type == 'bool' else 'string') ~ '"') -%}
      {%- endif -%}
    {%- endif -%}
  {%- endfor -%}
  ({{ fields }} @> '{{ tojson(tags) }}'
  {%- for kind, names in digits.items() %}
  {%- set sign, most = kind.split(' ') %}
   and {{ clarity_joined(names, fields) }} ~ '^{{ sign }}[0-9]+{{ ("(," ~ sign ~ "[0-9]+){" ~ (names | length - 1) ~ "}") if names | length > 1 }}$'
   and {{ clarity_joined(names, fields) }} !~ '[0-9]{ {{- most | int + 1 -}} }'
  {%- endfor %}
  {%- if shapes %}
   and {{ fields }} @@ 'strict {{ shapes | join(' && ') }}'
  {%- endif %})
{%- endmacro %}

{#- The values of `names` joined by commas. The regex counts them (a comma inside a value is no match) and the
    limit on digits is a second, unbounded test: a bounded repeat (`[0-9]{1,39}`) costs Postgres' regex engine
    ~30 times more than `[0-9]+`. One pattern per kind and count keeps them within its cache of 32 compiled regexes. -#}
{% macro clarity_joined(names, fields) -%}
  concat_ws(',' {%- for n in names %}, {{ fields }} -> '{{ n }}' ->> 'value'{% endfor %})
{%- endmacro %}

{#- The digits a uint or int field may have: heights and ids fit bigint, amounts u128. -#}
{% macro clarity_most_digits(field) -%}
  {{ return(18 if clarity_is_small(field) else 39) }}
{%- endmacro %}

{% macro clarity_sign(type) -%}
  {{ return('-?' if type == 'int' else '') }}
{%- endmacro %}

{#- Why an event the fast path refused is not well formed: each check in turn, the first failure named. -#}
{% macro print_event_reason(contract_col, name_col, col, only) -%}
  case
    when {{ col }} ->> 'type' is distinct from 'tuple' then 'not a tuple'
    when {{ col }} -> 'value' -> 'event' ->> 'type' is distinct from 'string-ascii' then 'no event name'
    {%- for contract, events in event_catalog().items() if only is none or contract == only %}
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
{% macro decode_contract_fields(contract, fields='fields') -%}
  {%- set seen = [] -%}
  {%- for event, event_fields in event_catalog()[contract].items() -%}
    {%- for field, type in event_fields if field not in seen -%}
      {%- do seen.append(field) %}
      {{ clarity_column(field, type, fields) }},
    {%- endfor -%}
  {%- endfor %}
{%- endmacro %}
