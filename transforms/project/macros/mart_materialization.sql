{#- The marts' materialization: dbt's incremental model, lean. dbt's own `incremental` sends 8-10 statements per
    model on top of the hooks (temp table, 3-4 catalog queries for the column list and schema changes, the
    delete and the insert, each a round trip); per block that fixed cost was most of the run. Here a model is
    one statement batch inside dbt's BEGIN/COMMIT: the pre-hooks, the window's rows, the merge and the
    post-hooks. The merge runs server-side (a DO block reads both column lists from the catalog), so it keeps
    `on_schema_change: append_new_columns` (a column the model adds is appended to the table) without a round
    trip. Event-log marts insert their window straight into the table: the pre-hook has already deleted every
    row at or above the window, so no key can collide. Entity marts (meta.tombstones) go through a temporary
    table: delete the recomputed keys, insert them again. The table never leaves its place (no rename, no
    swap, no CASCADE): `--full-refresh` empties it (the pre-hook) and inserts every row derived again, entity
    marts too, straight (macros/mart_window.sql). -#}

{% materialization mart, adapter='postgres' %}
  {%- set target = this.incorporate(type='table') -%}
  {%- set key = config.get('unique_key') -%}
  {%- set window = this.identifier ~ '__window' -%}
  {%- call statement('main') -%}
    {%- for hook in pre_hooks %}
    {{ render(hook.get('sql')) }};
    {%- endfor %}
    {%- if not mart_table_exists() %}
    create table {{ target }} as (
      {{ sql }}
    );
    {%- elif is_incremental() and mart_is_entity() %}
    create temporary table {{ window }} on commit drop as (
      {{ sql }}
    );
    {{ mart_merge(window, target, key) }};
    {%- else %}
    {#- an event log's window, or under --full-refresh (the model compiled as a first build) every row, into
        the table the pre-hook emptied -#}
    create temporary view {{ window }} as (
      {{ sql }}
    );
    {{ mart_merge(window, target, none) }};
    drop view {{ window }};
    {%- endif %}
    {%- for hook in post_hooks %}
    {{ render(hook.get('sql')) }};
    {%- endfor %}
  {%- endcall -%}
  {% do adapter.commit() %}
  {{ return({'relations': [target]}) }}
{% endmaterialization %}

{#- Rows of the relation `source` (a temporary table or view named `source`) into `target`, by column name:
    columns the target lacks are appended first; with `key`, the target's rows of the source's keys go first. -#}
{% macro mart_merge(source, target, key) -%}
  do $merge$
  declare
    src regclass := '{{ source }}'::regclass;
    dst regclass := '{{ target }}'::regclass;
    col record;
    cols text;
  begin
    for col in
      select a.attname, format_type(a.atttypid, a.atttypmod) as type
      from pg_attribute a
      where a.attrelid = src and a.attnum > 0 and not a.attisdropped
        and not exists (select from pg_attribute b where b.attrelid = dst and b.attname = a.attname
                        and b.attnum > 0 and not b.attisdropped)
      order by a.attnum
    loop
      execute format('alter table %s add column %I %s', dst, col.attname, col.type);
    end loop;
    select string_agg(quote_ident(a.attname), ', ' order by a.attnum) into cols
    from pg_attribute a where a.attrelid = src and a.attnum > 0 and not a.attisdropped;
    {%- if key %}
    execute format('delete from %s as t using %s as w where t.%I = w.%I', dst, src, '{{ key }}', '{{ key }}');
    {%- endif %}
    execute format('insert into %s (%s) select %s from %s', dst, cols, cols, src);
  end
  $merge$
{%- endmacro %}

{#- The model's table exists (whatever the flags). -#}
{% macro mart_table_exists() %}
  {%- if not execute -%}
    {{ return(false) }}
  {%- endif -%}
  {%- set relation = adapter.get_relation(this.database, this.schema, this.table) -%}
  {{ return(relation is not none and relation.type == 'table') }}
{% endmacro %}

{#- dbt's is_incremental(), for the `mart` materialization too: the model's table exists and this is no full
    refresh. The marts' `full_refresh: false` keeps dbt from swapping their tables, and so also makes dbt's
    own should_full_refresh() false under --full-refresh: the flag is read here, so that a full refresh
    compiles every mart as a first build (no stored rows read back, no window filter: every row is derived
    again from the events), into the table it empties in place. -#}
{% macro is_incremental() %}
  {%- if not execute -%}
    {{ return(false) }}
  {%- endif -%}
  {{ return(mart_table_exists() and model.config.materialized in ('incremental', 'mart')
            and not should_full_refresh() and not flags.FULL_REFRESH) }}
{% endmacro %}
