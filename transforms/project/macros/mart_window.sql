{#- Reorg-correct incremental marts. Each mart keeps its own position in marts.build_state: the last
    raw.observer_requests id and raw.reorgs id it has seen. A run re-derives every row at or above
    `from_height` = the lowest Stacks height of a block written since (gap fills included) or of a fork
    point reported since; --full-refresh (or a new mart) starts at 0. Event-log marts delete their rows
    from that height and insert the canonical ones again; entity marts (meta.tombstones) recompute each
    touched id and drop the ids no canonical event carries any more. Pre-hooks, the model and post-hooks
    run in one transaction, so a killed run leaves the previous state and the next run redoes the window.
    This relies on the indexer's single writer committing requests in id order. -#}

{% macro build_state_tables() -%}
  {%- if execute -%}
  create schema if not exists marts;
  create table if not exists marts.build_state (
    model text primary key,
    request_id bigint not null default -1,       -- raw.observer_requests.id seen by the last good run
    reorg_id bigint not null default 0,          -- raw.reorgs.id seen by the last good run
    from_height bigint not null default 0,       -- the current run's window (Stacks height)
    next_request_id bigint,
    next_reorg_id bigint,
    tip_height bigint,                           -- raw.chain_tip at the current run's start
    tip_burn_height bigint,
    included_height bigint,                      -- tip_height of the last good run: the marts hold it
    included_burn_height bigint,
    built_at timestamptz
  );
  create table if not exists marts.build_runs (
    id bigserial primary key,
    started_at timestamptz not null,
    finished_at timestamptz not null,
    command text not null,
    outcome text not null,                       -- success | error
    duration_s double precision not null,
    tip_height bigint,
    error text
  );
  -- The current run's window start of a mart, for its queries. Declared immutable on purpose: the planner then
  -- evaluates it while planning each statement (after the pre-hook set it, in the same transaction) and plans
  -- for the real window, a few rows through the height indexes. As a subquery its value is unknown when
  -- planning, estimated as a third of the table: sequential scans of the whole history (and parallel workers)
  -- on every block, a cost that grew with the chain. Never use it in a prepared statement or a stored plan.
  create or replace function marts.window_from(mart text) returns bigint language sql immutable parallel safe
    as $fn$ select from_height from marts.build_state where model = mart $fn$;
  {%- endif -%}
{%- endmacro %}

{#- The hooks of every mart (dbt_project.yml), each one round trip: dbt sends a hook's text in one execute, and
    on a loaded machine every round trip of dbt's costs several milliseconds per mart per block. -#}
{% macro mart_pre_hook() -%}
  {{ mart_window_open() }};
  {{ mart_delete_window() }}
{%- endmacro %}

{% macro mart_post_hook() -%}
  {{ mart_indexes() }};
  {{ mart_window_close() }}
{%- endmacro %}

{% macro mart_window_from() -%}
  marts.window_from('{{ this.identifier }}')
{%- endmacro %}

{#- The marts a model reads, directly or through views (the identifiers their build_state rows are keyed by). -#}
{% macro mart_inputs(uid) -%}
  {%- set found = [] -%}
  {%- for parent in graph.nodes[uid].depends_on.nodes if parent in graph.nodes -%}
    {%- set node = graph.nodes[parent] -%}
    {%- if node.config.materialized == 'mart' -%}
      {%- do found.append(node.alias or node.name) -%}
    {%- else -%}
      {%- do found.extend(mart_inputs(parent)) -%}
    {%- endif -%}
  {%- endfor -%}
  {{ return(found | unique | list) }}
{%- endmacro %}

{#- A mart that reads other marts takes as its new position the least of raw's and theirs: it holds what they
    held when it read them. Read at raw's position instead, it would skip for good a block written after an
    input's run and before its own (a live indexer writes between the two) or one an input was never run on
    (a `--select` of the reader alone). -#}
{% macro mart_window_open() -%}
  {%- set inputs = mart_inputs(model.unique_id) if execute else [] -%}
  insert into marts.build_state as s (model, from_height, next_request_id, next_reorg_id, tip_height, tip_burn_height)
  select '{{ this.identifier }}', 0,
  {%- if inputs %}
         least((select coalesce(max(id), 0) from raw.observer_requests), i.request_id),
         least((select coalesce(max(id), 0) from raw.reorgs), i.reorg_id),
         least(t.block_height, i.included_height), least(t.burn_block_height, i.included_burn_height)
  from raw.chain_tip t
  cross join (
    -- an input never built holds nothing: position -1, so the reader's next run starts from the beginning
    select case when count(b.model) = count(*) then min(b.request_id) else -1 end as request_id,
           case when count(b.model) = count(*) then min(b.reorg_id) else 0 end as reorg_id,
           min(b.included_height) as included_height, min(b.included_burn_height) as included_burn_height
    from (values {% for m in inputs %}('{{ m }}'){{ ', ' if not loop.last }}{% endfor %}) as v (model)
    left join marts.build_state b using (model)) as i
  {%- else %}
         (select coalesce(max(id), 0) from raw.observer_requests),
         (select coalesce(max(id), 0) from raw.reorgs),
         t.block_height, t.burn_block_height
  from raw.chain_tip t
  {%- endif %}
  on conflict (model) do update set
    next_request_id = excluded.next_request_id,
    next_reorg_id = excluded.next_reorg_id,
    tip_height = excluded.tip_height,
    tip_burn_height = excluded.tip_burn_height,
    from_height =
    {%- if flags.FULL_REFRESH or not is_incremental() %} 0
    {%- else %} coalesce(least(
      (select min(b.block_height) from raw.blocks b where b.request_id > s.request_id),
      (select min(r.fork_height) + 1 from raw.reorgs r where r.id > s.reorg_id)), 9223372036854775807)
    {%- endif %}
{%- endmacro %}

{% macro mart_is_entity() -%}
  {{ return((config.get('meta') or {}).get('tombstones', false)) }}
{%- endmacro %}

{% macro mart_delete_window() -%}
  {%- if flags.FULL_REFRESH and mart_table_exists() -%}
  {#- every row, entity marts' too: a full refresh also drops a row nothing derives any more -#}
  delete from {{ this }}
  {%- elif is_incremental() and not mart_is_entity() -%}
  delete from {{ this }} where last_stacks_height >= {{ mart_window_from() }}
  {%- endif -%}
{%- endmacro %}

{% macro mart_indexes() -%}
  create unique index if not exists {{ this.identifier }}_key on {{ this }} ({{ config.get('unique_key') }});
  create index if not exists {{ this.identifier }}_last_height on {{ this }} (last_stacks_height)
  {%- if mart_is_entity() %};
  {#- the post-hook's `delete ... where tombstone` finds the few tombstones through this (empty between runs)
      partial index; without it, it scanned the whole mart on every block #}
  create index if not exists {{ this.identifier }}_tombstone on {{ this }} ({{ config.get('unique_key') }}) where tombstone
  {%- endif %}
  {%- for cols in (config.get('meta') or {}).get('lookups', []) %};
  create index if not exists {{ this.identifier }}_{{ cols | replace(',', '') | replace(' ', '_') }} on {{ this }} ({{ cols }})
  {%- endfor %}
{%- endmacro %}

{% macro mart_window_close() -%}
  {%- if mart_is_entity() -%}
  delete from {{ this }} where tombstone;
  {%- endif %}
  update marts.build_state set request_id = next_request_id, reorg_id = next_reorg_id,
    included_height = tip_height, included_burn_height = tip_burn_height, built_at = now()
  where model = '{{ this.identifier }}'
{%- endmacro %}

{#- The rows of a staging relation inside the current window (for event-log marts). -#}
{% macro in_window(column='stacks_block_height') -%}
  {%- if is_incremental() -%} {{ column }} >= {{ mart_window_from() }} {%- else -%} true {%- endif -%}
{%- endmacro %}

{#- Entity marts: `when <flag> then (st).<col>`, the stored row's value, when the table exists (else nothing). -#}
{% macro stored_if(flag, col) -%}
  {%- if is_incremental() %} when {{ flag }} then (st).{{ col }}{% endif -%}
{%- endmacro %}
