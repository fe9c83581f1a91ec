-- The dashboards' SQL: every query aggregates in the database, so a page receives a few rows per chart.
-- Names (`-- name: x`) are what dashboards/db.py runs; binds are `:name`. Units are the views' (transforms/README.md).

-- name: freshness
-- polled every 2 s: only the cheap columns (the planner skips the unused ones, e.g. the quarantine count)
SELECT marts_stacks_height, marts_burn_height, raw_stacks_height, raw_burn_height,
       extract(epoch FROM now() - built_at)::float8 AS built_age_s, extract(epoch FROM built_at)::float8 AS built_at
FROM analytics.freshness;

-- name: any_bithedge_events
-- a chain with blocks but none of these is another deployment (or BITHEDGE_TRANSFORMS_DEPLOYER is wrong)
SELECT EXISTS (SELECT 1 FROM analytics.contract_calls)
    OR EXISTS (SELECT 1 FROM analytics.oracle_prices)
    OR EXISTS (SELECT 1 FROM analytics.pool_history) AS found;

-- name: overview_tokens
SELECT token, sum(assets) AS assets, sum(locked) AS locked, sum(cum_deposits) AS deposits,
       sum(cum_withdrawals) AS withdrawals, sum(cum_premiums) AS premiums_earned,
       sum(cum_premiums_received) AS premiums_received, sum(cum_payouts) AS payouts,
       CASE WHEN sum(assets) > 0 THEN sum(locked) / sum(assets) ELSE 0 END AS utilization
FROM analytics.pools GROUP BY token ORDER BY token;

-- name: overview_totals
-- the open book from analytics.exposure_grid (its buckets partition the open policies): a few rows, not a pass
-- over every policy (the policies view's status cannot use the mart's status index: 0.31 s at 1M policies)
SELECT coalesce(sum(notional_sats), 0) AS active_notional_sats, coalesce(sum(policies), 0) AS active_policies,
       coalesce(sum(notional_usd_e8), 0) AS active_notional_usd_e8
FROM analytics.exposure_grid;

-- name: overview_daily
-- every day, and the all-days totals beside each (one read of analytics.platform_daily for the series and the
-- headline numbers; it used to be read three times)
SELECT day, new_policies, premium_written_usd_e8, payouts_usd_e8, loss_ratio, open_policies_end, tvl_usd_e8,
       settled_itm, settled_otm,
       sum(premium_written_usd_e8) OVER () AS premium_written_total, sum(payouts_usd_e8) OVER () AS payouts_total
FROM analytics.platform_daily ORDER BY day;

-- name: overview_balances
SELECT 'treasury' AS account, token, balance FROM analytics.treasury
UNION ALL
SELECT 'insurance fund', token, balance FROM analytics.insurance_fund
ORDER BY account, token;

-- name: pauses_in_force
SELECT action, set_by, set_burn_height FROM analytics.pauses WHERE paused ORDER BY action;

-- name: policy_statuses
-- the counts view, not a group-by of analytics.policies: that computed every policy's status (0.28 s at 1M)
SELECT status, policies FROM analytics.policy_status_counts ORDER BY status;

-- name: policy
SELECT * FROM analytics.policies WHERE policy_id = :policy_id;

-- name: policy_pool_events
SELECT event_name, token, tier, collateral_locked, collateral_released, premium_earned, payout, refund,
       assets, locked, burn_height, stacks_height, txid
FROM analytics.pool_history WHERE policy_id = :policy_id ORDER BY stacks_block_height, event_index;

-- name: policy_transactions
SELECT c.txid, c.function_name, c.sender, c.status, c.fee, c.burn_height, c.stacks_height
FROM analytics.contract_calls AS c
WHERE c.txid IN (SELECT created_txid FROM analytics.policies WHERE policy_id = :policy_id
                 UNION ALL SELECT settled_txid FROM analytics.policies WHERE policy_id = :policy_id
                 UNION ALL SELECT txid FROM analytics.treasury_history WHERE policy_id = :policy_id
                 UNION ALL SELECT txid FROM analytics.insurance_fund_history WHERE policy_id = :policy_id)
ORDER BY c.stacks_height, c.tx_index;

-- name: policy_fund_treasury
SELECT 'treasury' AS account, event_name, amount, balance, burn_height, txid
FROM analytics.treasury_history WHERE policy_id = :policy_id
UNION ALL
SELECT 'insurance fund', event_name, coalesce(amount, covered), balance, burn_height, txid
FROM analytics.insurance_fund_history WHERE policy_id = :policy_id
ORDER BY burn_height;

-- name: pools
SELECT token, tier, assets, locked, free, utilization, share_price, max_utilization_bp, max_exposure_policy_bp,
       max_exposure_expiry_bp, max_policy_collateral, lockable, providers, cum_deposits, cum_withdrawals,
       cum_premiums, cum_payouts, pending_shares
FROM analytics.pools ORDER BY token, tier;

-- name: pool_history_bucketed
-- the last state per pool in each of ~300 buckets of burn blocks (a few hundred points per pool, whatever the history):
-- one probe of the (token, tier, burn_height) index per pool and bucket (marts.pool_history's lookup), instead of
-- sorting the whole history (DISTINCT ON over every row: its time grew with the history)
WITH ends AS (
  SELECT p.token, p.tier,
         (SELECT min(h.burn_height) FROM analytics.pool_history AS h WHERE h.token = p.token AND h.tier = p.tier) AS lo,
         (SELECT max(h.burn_height) FROM analytics.pool_history AS h WHERE h.token = p.token AND h.tier = p.tier) AS hi
  FROM (SELECT DISTINCT token, tier FROM analytics.pools) AS p),
span AS (SELECT greatest(1, (max(hi) - min(lo)) / 300) AS width FROM ends)
SELECT h.token, h.tier, h.burn_height, h.assets, h.locked, h.share_price,
       CASE WHEN h.assets > 0 THEN h.locked / h.assets ELSE 0 END AS utilization
FROM ends AS e CROSS JOIN span
CROSS JOIN LATERAL generate_series(e.lo / span.width, e.hi / span.width) AS b
CROSS JOIN LATERAL (
  SELECT * FROM analytics.pool_history AS h
  WHERE h.token = e.token AND h.tier = e.tier AND h.burn_height >= b * span.width AND h.burn_height < (b + 1) * span.width
  ORDER BY h.burn_height DESC, h.stacks_block_height DESC, h.event_index DESC LIMIT 1) AS h
ORDER BY h.token, h.tier, h.burn_height;

-- name: providers
SELECT provider, token, tier, shares, value, deposited, withdrawn, earned, annualized_yield
FROM analytics.providers ORDER BY value DESC, provider LIMIT 200;

-- name: provider_count
SELECT count(DISTINCT provider) AS providers, count(*) AS positions FROM analytics.providers;

-- name: oracle_stats
SELECT s.asset, s.latest_price, s.latest_burn_height, s.age_blocks, s.prices, s.realized_vol_144,
       s.realized_vol_1008, (SELECT value FROM analytics.parameters WHERE key = 'oracle.stale-after-blocks') AS heartbeat_blocks
FROM analytics.oracle_stats AS s ORDER BY s.asset;

-- name: oracle_history
-- every submission when there are few, else min/max/last per bucket of burn blocks (at most ~600 points per asset)
WITH span AS (SELECT asset, greatest(1, ceil((max(burn_height) - min(burn_height) + 1) / 600.0))::bigint AS width,
                     count(*) AS n
              FROM analytics.oracle_prices GROUP BY asset)
SELECT p.asset, min(p.burn_height) AS burn_height, min(p.price) AS low, max(p.price) AS high,
       (array_agg(p.price ORDER BY p.stacks_block_height DESC, p.event_index DESC))[1] AS price,
       count(*) AS submissions,
       max(CASE WHEN p.previous_height > 0 THEN p.burn_height - p.previous_height END) AS max_gap_blocks
FROM analytics.oracle_prices AS p JOIN span USING (asset)
GROUP BY p.asset, CASE WHEN span.n <= 600 THEN p.burn_height ELSE p.burn_height / span.width END
ORDER BY p.asset, 2;

-- name: stress
SELECT token, tier, open_policies, payout, assets, free_after_payout, adequacy
FROM analytics.stress_payout(:btc_shock, :stx_shock) ORDER BY token, tier;

-- name: pool_risk
SELECT * FROM analytics.pool_risk ORDER BY token, tier;

-- name: exposure_grid
SELECT moneyness_bucket, expiry_bucket, sum(policies) AS policies, sum(notional_usd_e8) AS notional_usd_e8,
       sum(notional_sats) AS notional_sats
FROM analytics.exposure_grid GROUP BY 1, 2 ORDER BY 1, 2;

-- name: concentration
SELECT kind, token, rank, who, size, share, hhi FROM analytics.concentration WHERE rank <= 10
ORDER BY kind, token, rank;

-- name: expiries_soon
SELECT e.expiry, e.expiry - f.raw_burn_height AS blocks_left, e.unsettled, e.collateral_locked, e.due,
       e.needs_void, e.btc_price_height
FROM analytics.expiries AS e CROSS JOIN analytics.freshness AS f
WHERE e.unsettled > 0 ORDER BY e.expiry LIMIT 15;

-- name: proposals
-- progress: 1 = the bar (quorum: (yes + no) against total × quorum_bp; threshold: yes against (yes + no) × threshold_bp)
SELECT proposal_id, state, kind, key, tier, value, yes_power, no_power, voters,
       CASE WHEN total_power > 0 AND quorum_bp > 0
            THEN (yes_power + no_power) * 10000 / (total_power * quorum_bp) END AS quorum_progress,
       CASE WHEN yes_power + no_power > 0 AND threshold_bp > 0
            THEN yes_power * 10000 / ((yes_power + no_power) * threshold_bp) END AS threshold_progress,
       quorum_met, threshold_met, total_power, quorum_bp, threshold_bp,
       start_burn_height, end_burn_height, eta_burn_height, proposer
FROM analytics.proposals ORDER BY proposal_id DESC LIMIT 100;

-- name: governance_timeline
SELECT 'parameter' AS what, key AS item, value::text AS value, old_value::text AS old_value, sender, burn_height
FROM analytics.parameter_history
UNION ALL
SELECT 'tier', tier_kind || ' ' || tier || ' ' || field, active::text, NULL, sender, burn_height
FROM analytics.tier_history
ORDER BY burn_height DESC LIMIT 500;

-- name: indexer_status
SELECT stacks_height, burn_height, seconds_since_write, reorgs, max_reorg_depth, last_reorg_at, dead_letters,
       dead_letters_by_reason::text AS dead_letters_by_reason
FROM analytics.indexer_status;

-- name: transforms_status
SELECT lag_blocks, lag_seconds, last_run_command, last_run_outcome, last_run_duration_s, last_run_at,
       last_run_error, last_success_at
FROM analytics.freshness;

-- name: quarantined
-- apart from the rest: the count decodes every print (seconds on a long chain), so it may time out alone
SELECT quarantined_events FROM analytics.freshness;

-- name: reconcile_runs
SELECT run_id, finished_at, stacks_height, attempts, checked, mismatch_count, error,
       (SELECT string_agg(m->>'entity' || ' ' || (m->>'field'), '; ') FROM jsonb_array_elements(mismatches) AS m)
           AS mismatched
FROM analytics.reconcile_runs ORDER BY run_id DESC LIMIT 20;
