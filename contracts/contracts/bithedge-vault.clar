;; bithedge-vault: one liquidity pool per (collateral token, provider tier).
;; Tokens: "STX" (micro-STX) and "sBTC" (sats, the real SIP-010 sbtc-token boot contract).
;; A pool's `assets` are earned capital (deposits, settled premiums, minus payouts); the premium of
;; an open policy is `unearned` until the policy settles or is voided, so nobody gains it without
;; having backed the policy. Providers leave by request: `execute-withdrawal` waits until every
;; expiry outstanding at request time has settled, and requested shares stop backing new policies.
;; Share math uses a virtual share and asset of 1 and rounds in favour of the pool; a pool whose
;; share price falls below 1e-6 of par starts a new share generation (old shares count as 0), which
;; keeps shares <= 1e6 * (assets + 1) and so every product below 2^128 (contracts/README.md).

(define-constant ERR-NOT-AUTHORIZED (err u300))
(define-constant ERR-REGISTRY-ONLY (err u301))
(define-constant ERR-UNKNOWN-TOKEN (err u302))
(define-constant ERR-POOL-EXISTS (err u303))
(define-constant ERR-NO-POOL (err u304))
(define-constant ERR-ZERO-AMOUNT (err u305))
(define-constant ERR-ZERO-SHARES (err u306))
(define-constant ERR-INSUFFICIENT-SHARES (err u307))
(define-constant ERR-INSUFFICIENT-UNLOCKED (err u308))
(define-constant ERR-UTILIZATION (err u309))
(define-constant ERR-EXPOSURE-POLICY (err u310))
(define-constant ERR-EXPOSURE-EXPIRY (err u311))
(define-constant ERR-TIER-INACTIVE (err u312))
(define-constant ERR-BAD-RELEASE (err u313))
(define-constant ERR-TOO-MANY-EXPIRIES (err u314))
(define-constant ERR-WITHDRAW-UTILIZATION (err u315))
(define-constant ERR-SETTLEMENT-PENDING (err u316))
(define-constant ERR-OUTSTANDING-EXPIRIES (err u317))
(define-constant ERR-REQUEST-EXISTS (err u318))
(define-constant ERR-NO-REQUEST (err u319))
(define-constant ERR-DEPOSITS-PAUSED (err u320))
(define-constant ERR-NOT-EXECUTABLE (err u321))

(define-constant REGISTRY .bithedge-policy-registry)
(define-constant SELF (as-contract tx-sender))
(define-constant BP u10000)
;; A pool with more shares than this many per base unit of assets is wiped (new generation).
(define-constant MAX-SHARES-PER-UNIT u1000000)

;; next-expiry: the earliest outstanding expiry (0 if none); the full set is in open-expiries.
(define-map pools { token: (string-ascii 8), tier: (string-ascii 16) }
  { assets: uint, unearned: uint, shares: uint, locked: uint, pending: uint, premiums: uint,
    payouts: uint, generation: uint, next-expiry: uint })
(define-map positions { token: (string-ascii 8), tier: (string-ascii 16), provider: principal }
  { shares: uint, generation: uint })
(define-map requests { token: (string-ascii 8), tier: (string-ascii 16), provider: principal }
  { shares: uint, after: uint, generation: uint })
(define-map expiry-locked { token: (string-ascii 8), tier: (string-ascii 16), expiry: uint } uint)
(define-map open-expiries { token: (string-ascii 8), tier: (string-ascii 16) } (list 200 uint))

;; v1 voting power (raw STX-pool shares), read by the v1 governance only; removed once governance
;; values positions through get-pool / get-shares (H-2).
(define-map voting-power principal uint)
(define-data-var total-voting-power uint u0)

;; ---------------------------------------------------------------- read-only: formulas
(define-read-only (shares-for-deposit (amount uint) (assets uint) (unearned uint) (shares uint))
  (if (is-eq shares u0) amount (/ (* amount (+ shares u1)) (+ assets unearned u1))))

(define-read-only (value-of-shares (shares uint) (assets uint) (total-shares uint))
  (/ (* shares (+ assets u1)) (+ total-shares u1)))

;; ---------------------------------------------------------------- read-only: state
(define-read-only (is-supported-token (token (string-ascii 8)))
  (or (is-eq token "STX") (is-eq token "sBTC")))

(define-read-only (get-pool (token (string-ascii 8)) (tier (string-ascii 16)))
  (map-get? pools { token: token, tier: tier }))

(define-read-only (get-shares (token (string-ascii 8)) (tier (string-ascii 16)) (provider principal))
  (match (map-get? positions { token: token, tier: tier, provider: provider })
    pos (match (map-get? pools { token: token, tier: tier })
          p (if (is-eq (get generation pos) (get generation p)) (get shares pos) u0)
          u0)
    u0))

(define-read-only (get-withdrawal-request (token (string-ascii 8)) (tier (string-ascii 16)) (provider principal))
  (match (map-get? requests { token: token, tier: tier, provider: provider })
    r (match (map-get? pools { token: token, tier: tier })
        p (if (is-eq (get generation r) (get generation p)) (some { shares: (get shares r), after: (get after r) }) none)
        none)
    none))

(define-read-only (get-position-value (token (string-ascii 8)) (tier (string-ascii 16)) (provider principal))
  (match (map-get? pools { token: token, tier: tier })
    p (value-of-shares (get-shares token tier provider) (get assets p) (get shares p))
    u0))

(define-read-only (get-expiry-locked (token (string-ascii 8)) (tier (string-ascii 16)) (expiry uint))
  (default-to u0 (map-get? expiry-locked { token: token, tier: tier, expiry: expiry })))

(define-read-only (get-open-expiries (token (string-ascii 8)) (tier (string-ascii 16)))
  (default-to (list) (map-get? open-expiries { token: token, tier: tier })))

;; Assets that back new policies: the value of shares requested for withdrawal does not.
(define-read-only (get-backing (token (string-ascii 8)) (tier (string-ascii 16)))
  (match (map-get? pools { token: token, tier: tier }) p (backing p) u0))

(define-read-only (get-voting-power (who principal))
  (default-to u0 (map-get? voting-power who)))

(define-read-only (get-total-voting-power)
  (var-get total-voting-power))

(define-read-only (preview-deposit (token (string-ascii 8)) (tier (string-ascii 16)) (amount uint))
  (match (map-get? pools { token: token, tier: tier })
    p (some (shares-for-deposit amount (get assets p) (get unearned p) (get shares p)))
    none))

(define-read-only (preview-withdraw (token (string-ascii 8)) (tier (string-ascii 16)) (shares uint))
  (match (map-get? pools { token: token, tier: tier })
    p (some (value-of-shares shares (get assets p) (get shares p)))
    none))

;; ---------------------------------------------------------------- private
(define-private (is-admin (who principal))
  (contract-call? .bithedge-parameters has-role who "admin"))

(define-private (backing (p { assets: uint, unearned: uint, shares: uint, locked: uint, pending: uint, premiums: uint,
                              payouts: uint, generation: uint, next-expiry: uint }))
  (- (get assets p) (value-of-shares (get pending p) (get assets p) (get shares p))))

(define-private (max-of (a uint) (b uint)) (if (> a b) a b))
(define-private (min-nonzero (a uint) (b uint)) (if (or (is-eq b u0) (and (> a u0) (< a b))) a b))
(define-private (drop-expiry (e uint) (acc { drop: uint, out: (list 200 uint) }))
  (if (is-eq e (get drop acc)) acc
    (merge acc { out: (unwrap-panic (as-max-len? (append (get out acc) e) u200)) })))

(define-private (transfer-in (token (string-ascii 8)) (amount uint) (from principal))
  (if (is-eq token "STX")
    (stx-transfer? amount from SELF)
    (contract-call? 'SM3VDXK3WZZSA84XXFKAFAF15NNZX32CTSG82JFQ4.sbtc-token transfer amount from SELF none)))

(define-private (transfer-out (token (string-ascii 8)) (amount uint) (to principal))
  (if (is-eq amount u0)
    (ok true)
    (as-contract
      (if (is-eq token "STX")
        (stx-transfer? amount tx-sender to)
        (contract-call? 'SM3VDXK3WZZSA84XXFKAFAF15NNZX32CTSG82JFQ4.sbtc-token transfer amount tx-sender to none)))))

(define-private (add-power (token (string-ascii 8)) (who principal) (shares uint))
  (if (is-eq token "STX")
    (begin
      (map-set voting-power who (+ (get-voting-power who) shares))
      (var-set total-voting-power (+ (var-get total-voting-power) shares)))
    true))

(define-private (sub-power (token (string-ascii 8)) (who principal) (shares uint))
  (if (is-eq token "STX")
    (begin
      (map-set voting-power who (- (get-voting-power who) shares))
      (var-set total-voting-power (- (var-get total-voting-power) shares)))
    true))

;; Burns `shares` of `provider` (already checked), pays their earned value and prints `name`.
(define-private (redeem (name (string-ascii 19)) (token (string-ascii 8)) (tier (string-ascii 16)) (provider principal)
                        (shares uint) (requested uint) (after uint))
  (let (
      (p (unwrap-panic (map-get? pools { token: token, tier: tier })))
      (t (unwrap! (contract-call? .bithedge-parameters get-tier "provider" tier) ERR-TIER-INACTIVE))
      (amount (value-of-shares shares (get assets p) (get shares p)))
      (assets (- (get assets p) amount))
      (pool-shares (- (get shares p) shares))
      (pending (- (get pending p) requested))
      (held (- (get-shares token tier provider) shares))
    )
    (asserts! (<= (* (get locked p) BP) (* assets (get max-utilization-bp t))) ERR-WITHDRAW-UTILIZATION)
    (try! (transfer-out token amount provider))
    (map-set pools { token: token, tier: tier } (merge p { assets: assets, shares: pool-shares, pending: pending }))
    (map-set positions { token: token, tier: tier, provider: provider } { shares: held, generation: (get generation p) })
    (sub-power token provider shares)
    (print { event: name, token: token, tier: tier, provider: provider, amount: amount, shares: shares,
             after-expiry: after, provider-shares: held, pool-assets: assets, pool-unearned: (get unearned p), pool-shares: pool-shares,
             pool-locked: (get locked p), pool-pending-shares: pending,
             burn-height: burn-block-height, stacks-height: stacks-block-height })
    (ok amount)))

(define-private (print-request (name (string-ascii 20)) (token (string-ascii 8)) (tier (string-ascii 16)) (provider principal)
                               (shares uint) (after uint))
  (let ((p (unwrap-panic (map-get? pools { token: token, tier: tier }))))
    (print { event: name, token: token, tier: tier, provider: provider, shares: shares, after-expiry: after,
             provider-shares: (get-shares token tier provider), pool-assets: (get assets p),
             pool-unearned: (get unearned p), pool-shares: (get shares p), pool-locked: (get locked p),
             pool-pending-shares: (get pending p), burn-height: burn-block-height, stacks-height: stacks-block-height })))

;; ---------------------------------------------------------------- admin
(define-public (create-pool (token (string-ascii 8)) (tier (string-ascii 16)))
  (begin
    (asserts! (is-admin contract-caller) ERR-NOT-AUTHORIZED)
    (asserts! (is-supported-token token) ERR-UNKNOWN-TOKEN)
    (asserts! (is-some (contract-call? .bithedge-parameters get-tier "provider" tier)) ERR-TIER-INACTIVE)
    (asserts! (map-insert pools { token: token, tier: tier }
                { assets: u0, unearned: u0, shares: u0, locked: u0, pending: u0, premiums: u0, payouts: u0,
                  generation: u0, next-expiry: u0 }) ERR-POOL-EXISTS)
    (print { event: "pool-created", token: token, tier: tier, sender: contract-caller,
             burn-height: burn-block-height, stacks-height: stacks-block-height })
    (ok true)))

;; ---------------------------------------------------------------- providers
;; Priced with the unearned premium (a deposit pays for premium already collected). Refused while
;; an outstanding expiry has passed unsettled: its outcome is known, so entering would be a bet on it.
(define-public (deposit (token (string-ascii 8)) (tier (string-ascii 16)) (amount uint))
  (let (
      (provider tx-sender)
      (p (unwrap! (map-get? pools { token: token, tier: tier }) ERR-NO-POOL))
      (t (unwrap! (contract-call? .bithedge-parameters get-tier "provider" tier) ERR-TIER-INACTIVE))
      (minted (shares-for-deposit amount (get assets p) (get unearned p) (get shares p)))
      (held (+ (get-shares token tier provider) minted))
      (assets (+ (get assets p) amount))
      (shares (+ (get shares p) minted))
    )
    (asserts! (not (contract-call? .bithedge-parameters is-paused "deposit")) ERR-DEPOSITS-PAUSED)
    (asserts! (get active t) ERR-TIER-INACTIVE)
    (asserts! (> amount u0) ERR-ZERO-AMOUNT)
    (asserts! (> minted u0) ERR-ZERO-SHARES)
    (asserts! (or (is-eq (get next-expiry p) u0) (> (get next-expiry p) burn-block-height)) ERR-SETTLEMENT-PENDING)
    (try! (transfer-in token amount provider))
    (map-set pools { token: token, tier: tier } (merge p { assets: assets, shares: shares }))
    (map-set positions { token: token, tier: tier, provider: provider } { shares: held, generation: (get generation p) })
    (add-power token provider minted)
    (print { event: "pool-deposit", token: token, tier: tier, provider: provider, amount: amount,
             shares: minted, provider-shares: held, pool-assets: assets, pool-unearned: (get unearned p),
             pool-shares: shares, pool-locked: (get locked p), pool-pending-shares: (get pending p),
             burn-height: burn-block-height, stacks-height: stacks-block-height })
    (ok minted)))

;; Immediate withdrawal, only while the pool has no outstanding expiry (nothing locked, no
;; unearned premium); otherwise request-withdrawal. Never pausable.
(define-public (withdraw (token (string-ascii 8)) (tier (string-ascii 16)) (shares uint))
  (let (
      (p (unwrap! (map-get? pools { token: token, tier: tier }) ERR-NO-POOL))
      (requested (match (get-withdrawal-request token tier tx-sender) r (get shares r) u0))
    )
    (asserts! (> shares u0) ERR-ZERO-SHARES)
    (asserts! (<= (+ shares requested) (get-shares token tier tx-sender)) ERR-INSUFFICIENT-SHARES)
    (asserts! (is-eq (get next-expiry p) u0) ERR-OUTSTANDING-EXPIRIES)
    (redeem "pool-withdraw" token tier tx-sender shares u0 u0)))

;; Requests `shares` for withdrawal after the pool's latest outstanding expiry. Never pausable.
(define-public (request-withdrawal (token (string-ascii 8)) (tier (string-ascii 16)) (shares uint))
  (let (
      (provider tx-sender)
      (p (unwrap! (map-get? pools { token: token, tier: tier }) ERR-NO-POOL))
      (after (fold max-of (get-open-expiries token tier) u0))
    )
    (asserts! (> shares u0) ERR-ZERO-SHARES)
    (asserts! (<= shares (get-shares token tier provider)) ERR-INSUFFICIENT-SHARES)
    (asserts! (is-none (get-withdrawal-request token tier provider)) ERR-REQUEST-EXISTS)
    (map-set requests { token: token, tier: tier, provider: provider }
      { shares: shares, after: after, generation: (get generation p) })
    (map-set pools { token: token, tier: tier } (merge p { pending: (+ (get pending p) shares) }))
    (print-request "withdrawal-requested" token tier provider shares after)
    (ok after)))

(define-public (cancel-withdrawal (token (string-ascii 8)) (tier (string-ascii 16)))
  (let (
      (provider tx-sender)
      (p (unwrap! (map-get? pools { token: token, tier: tier }) ERR-NO-POOL))
      (r (unwrap! (get-withdrawal-request token tier provider) ERR-NO-REQUEST))
    )
    (map-delete requests { token: token, tier: tier, provider: provider })
    (map-set pools { token: token, tier: tier } (merge p { pending: (- (get pending p) (get shares r)) }))
    (print-request "withdrawal-cancelled" token tier provider (get shares r) (get after r))
    (ok true)))

;; Pays a request once no expiry <= its `after` is outstanding, if the utilization cap still holds
;; afterwards (else wait for further settlements). Never pausable.
(define-public (execute-withdrawal (token (string-ascii 8)) (tier (string-ascii 16)))
  (let (
      (provider tx-sender)
      (p (unwrap! (map-get? pools { token: token, tier: tier }) ERR-NO-POOL))
      (r (unwrap! (get-withdrawal-request token tier provider) ERR-NO-REQUEST))
      (next (get next-expiry p))
    )
    (asserts! (or (is-eq next u0) (> next (get after r))) ERR-NOT-EXECUTABLE)
    (map-delete requests { token: token, tier: tier, provider: provider })
    (redeem "withdrawal-executed" token tier provider (get shares r) (get shares r) (get after r))))

;; ---------------------------------------------------------------- registry only
;; Locks `collateral` for a new policy and takes the pool's `premium` (unearned until the policy
;; closes) from `payer` (the buyer, who is tx-sender). Caps are checked against the backing.
(define-public (lock-collateral (token (string-ascii 8)) (tier (string-ascii 16)) (expiry uint)
                                (collateral uint) (premium uint) (payer principal))
  (let (
      (p (unwrap! (map-get? pools { token: token, tier: tier }) ERR-NO-POOL))
      (t (unwrap! (contract-call? .bithedge-parameters get-tier "provider" tier) ERR-TIER-INACTIVE))
      (b (backing p))
      (locked (+ (get locked p) collateral))
      (prior (get-expiry-locked token tier expiry))
      (exp-locked (+ prior collateral))
      (unearned (+ (get unearned p) premium))
      (next (min-nonzero expiry (get next-expiry p)))
    )
    (asserts! (is-eq contract-caller REGISTRY) ERR-REGISTRY-ONLY)
    (asserts! (get active t) ERR-TIER-INACTIVE)
    (asserts! (<= (* collateral BP) (* b (get max-exposure-policy-bp t))) ERR-EXPOSURE-POLICY)
    (asserts! (<= (* locked BP) (* b (get max-utilization-bp t))) ERR-UTILIZATION)
    (asserts! (<= (* exp-locked BP) (* b (get max-exposure-expiry-bp t))) ERR-EXPOSURE-EXPIRY)
    (if (is-eq prior u0)
      (map-set open-expiries { token: token, tier: tier }
        (unwrap! (as-max-len? (append (get-open-expiries token tier) expiry) u200) ERR-TOO-MANY-EXPIRIES))
      true)
    (try! (transfer-in token premium payer))
    (map-set pools { token: token, tier: tier }
      (merge p { unearned: unearned, locked: locked, premiums: (+ (get premiums p) premium), next-expiry: next }))
    (map-set expiry-locked { token: token, tier: tier, expiry: expiry } exp-locked)
    (ok { pool-assets: (get assets p), pool-unearned: unearned, pool-shares: (get shares p), pool-locked: locked,
          pool-pending-shares: (get pending p), expiry-locked: exp-locked })))

;; Closes a policy: releases its collateral, pays `payout` (<= collateral) to `recipient` and either
;; earns the pool `premium` (settlement) or refunds it to `recipient` (void).
(define-public (release-collateral (token (string-ascii 8)) (tier (string-ascii 16)) (expiry uint)
                                   (collateral uint) (premium uint) (payout uint) (refund bool) (recipient principal))
  (let (
      (p (unwrap! (map-get? pools { token: token, tier: tier }) ERR-NO-POOL))
      (exp-locked (get-expiry-locked token tier expiry))
    )
    (asserts! (is-eq contract-caller REGISTRY) ERR-REGISTRY-ONLY)
    (asserts! (and (<= payout collateral) (<= collateral (get locked p)) (<= collateral exp-locked)
                   (<= premium (get unearned p))) ERR-BAD-RELEASE)
    (try! (transfer-out token (+ payout (if refund premium u0)) recipient))
    (let (
        (left (- exp-locked collateral))
        (open (if (is-eq left u0)
                (get out (fold drop-expiry (get-open-expiries token tier) { drop: expiry, out: (list) }))
                (get-open-expiries token tier)))
        (assets (- (+ (get assets p) (if refund u0 premium)) payout))
        (wiped (and (> (get shares p) u0) (> (get shares p) (* assets MAX-SHARES-PER-UNIT))))
        (closed (merge p {
          assets: assets, unearned: (- (get unearned p) premium), locked: (- (get locked p) collateral),
          payouts: (+ (get payouts p) payout), next-expiry: (fold min-nonzero open u0) }))
        (after (if wiped (merge closed { shares: u0, pending: u0, generation: (+ (get generation p) u1) }) closed))
      )
      (map-set pools { token: token, tier: tier } after)
      (map-set expiry-locked { token: token, tier: tier, expiry: expiry } left)
      (if (is-eq left u0) (map-set open-expiries { token: token, tier: tier } open) true)
      (if wiped
        (begin
          (print { event: "pool-wiped", token: token, tier: tier, voided-shares: (get shares p),
                   generation: (get generation after), pool-assets: assets,
                   burn-height: burn-block-height, stacks-height: stacks-block-height })
          true)
        true)
      (ok { pool-assets: assets, pool-unearned: (get unearned after), pool-shares: (get shares after),
            pool-locked: (get locked after), pool-pending-shares: (get pending after), expiry-locked: left }))))
