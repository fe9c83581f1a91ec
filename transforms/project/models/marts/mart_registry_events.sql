{{ config(alias='registry_events', unique_key='event_key') }}
-- Event log: the policy registry's well-formed prints (policy-created, policy-settled, policy-voided), each decoded
-- and checked once, with every column of stg_policy_registry. The policies and the pool marts read it instead of
-- the staging view: at 1M policies each pass of the view over the registry's 2M prints costs ~60 s of CPU, and a
-- full rebuild made three (transforms/README.md, session 10). Marts that read it never run ahead of it
-- (macros/mart_window.sql, `mart_window_open`).
select *, stacks_block_height as last_stacks_height
from {{ ref('stg_policy_registry') }}
where {{ in_window() }}
