{{ config(alias='pool_states', unique_key='state_key', meta={'lookups': ['token, tier, stacks_block_height']}) }}
-- Per pool (token x tier) per Stacks block where it changed: the pool's state after the block and its cumulative
-- flows up to it. An event log of checkpoints: the pre-hook deletes the rows at or above the window, so the latest
-- row left per pool is its state below the window, the base the window's blocks add to (one index probe per pool).
-- analytics.pools reads the latest row per pool, so reading the pools costs a probe per pool, not a pass over
-- the history.
-- Totals after each event, as the vault holds them (contracts/EVENTS.md, bithedge-vault `release-collateral`):
-- `pool-created` starts at zero; `pool-wiped` sets the shares and the pending shares to 0 (a new generation,
-- its number in the event), keeps `pool-assets` and carries no locked or unearned total, which stand as the
-- previous event left them (the settlement's own event after it, in the same transaction, carries them).
with changes as (
    select
        token, tier, stacks_block_height, event_index, event_name, burn_height, stacks_height,
        deposited, withdrawn, premium_earned, premium_received, payout,
        case when event_name = 'pool-created' then 0 else pool_assets end as assets,
        case when event_name in ('pool-created', 'pool-wiped') then 0 else pool_shares end as shares,
        case when event_name = 'pool-created' then 0 else pool_locked end as locked,
        case when event_name = 'pool-created' then 0 else pool_unearned end as unearned,
        case when event_name in ('pool-created', 'pool-wiped') then 0 else pool_pending_shares end as pending_shares
    from {{ ref('int_pool_changes') }}
    where {{ in_window() }}
),

wipes as (
    select token, tier, stacks_block_height, max(generation) as generation
    from {{ ref('stg_vault') }}
    where event_name = 'pool-wiped' and {{ in_window() }}
    group by token, tier, stacks_block_height
),

blocks as (
    -- per pool and block: each total as the block's last event that carries it left it
    select
        token, tier, stacks_block_height,
        max(burn_height) as burn_height,
        max(stacks_height) as stacks_height,
        (array_agg(assets order by event_index desc) filter (where assets is not null))[1] as assets,
        (array_agg(shares order by event_index desc) filter (where shares is not null))[1] as shares,
        (array_agg(locked order by event_index desc) filter (where locked is not null))[1] as locked,
        (array_agg(unearned order by event_index desc) filter (where unearned is not null))[1] as unearned,
        (array_agg(pending_shares order by event_index desc) filter (where pending_shares is not null))[1]
            as pending_shares,
        min(burn_height) filter (where event_name = 'pool-created') as created_burn_height,
        sum(deposited) as deposits,
        sum(withdrawn) as withdrawals,
        sum(premium_earned) as premiums,
        sum(premium_received) as premiums_received,
        sum(payout) as payouts
    from changes
    group by token, tier, stacks_block_height
),

{% if is_incremental() %}
base as (
    -- the latest state below the window of each pool the window touches (the pre-hook removed the rest)
    select st.*
    from (select distinct token, tier from blocks) as p
    cross join lateral (
        select * from {{ this }} as s
        where s.token = p.token and s.tier = p.tier
        order by s.stacks_block_height desc
        limit 1) as st
),
{% else %}
base as (
    select * from (select
        null::text as token, null::text as tier, null::bigint as stacks_block_height, null::bigint as burn_height,
        null::bigint as stacks_height, null::numeric as assets, null::numeric as shares, null::numeric as locked,
        null::numeric as unearned, null::numeric as pending_shares, null::numeric as generation,
        null::bigint as created_burn_height, null::numeric as cum_deposits, null::numeric as cum_withdrawals,
        null::numeric as cum_premiums, null::numeric as cum_premiums_received, null::numeric as cum_payouts) as none
    where false
),
{% endif %}

steps as (
    -- the base (one row per pool, first) then the window's blocks, with each block's flows and totals
    select token, tier, stacks_block_height, burn_height, stacks_height, assets, shares, locked, unearned,
           pending_shares, generation, created_burn_height, cum_deposits as deposits,
           cum_withdrawals as withdrawals, cum_premiums as premiums, cum_premiums_received as premiums_received,
           cum_payouts as payouts, false as in_window
    from base
    union all
    select b.token, b.tier, b.stacks_block_height, b.burn_height, b.stacks_height, b.assets, b.shares, b.locked,
           b.unearned, b.pending_shares, w.generation, b.created_burn_height, b.deposits, b.withdrawals, b.premiums,
           b.premiums_received, b.payouts, true
    from blocks as b
    left join wipes as w using (token, tier, stacks_block_height)
),

carried as (
    -- a total no event of a block carries stands as before: each run of blocks after a carrier takes its value
    select *,
        count(assets) over w as assets_run,
        count(shares) over w as shares_run,
        count(locked) over w as locked_run,
        count(unearned) over w as unearned_run,
        count(pending_shares) over w as pending_run,
        count(generation) over w as generation_run,
        count(created_burn_height) over w as created_run,
        sum(deposits) over w as cum_deposits,
        sum(withdrawals) over w as cum_withdrawals,
        sum(premiums) over w as cum_premiums,
        sum(premiums_received) over w as cum_premiums_received,
        sum(payouts) over w as cum_payouts
    from steps
    window w as (partition by token, tier order by stacks_block_height rows unbounded preceding)
),

states as (
    select
        token, tier, stacks_block_height, burn_height, stacks_height,
        {%- for col, run in [('assets', 'assets_run'), ('shares', 'shares_run'), ('locked', 'locked_run'),
                             ('unearned', 'unearned_run'), ('pending_shares', 'pending_run'),
                             ('generation', 'generation_run'), ('created_burn_height', 'created_run')] %}
        first_value({{ col }}) over (partition by token, tier, {{ run }} order by stacks_block_height) as {{ col }},
        {%- endfor %}
        cum_deposits, cum_withdrawals, cum_premiums, cum_premiums_received, cum_payouts, in_window
    from carried
)

select
    token || '/' || tier || '/' || stacks_block_height as state_key,
    token,
    tier,
    stacks_block_height,
    burn_height,
    stacks_height,
    assets::numeric(39, 0) as assets,  -- the type of the staging columns (analytics.pools keeps it)
    shares::numeric(39, 0) as shares,
    locked::numeric(39, 0) as locked,
    unearned::numeric(39, 0) as unearned,
    pending_shares::numeric(39, 0) as pending_shares,
    coalesce(generation, 0) as generation,
    created_burn_height,
    cum_deposits,
    cum_withdrawals,
    cum_premiums,
    cum_premiums_received,
    cum_payouts,
    stacks_block_height as last_stacks_height
from states
where in_window
