;; bithedge-vault: one liquidity pool per (collateral token, provider tier).
;; Tokens: "STX" (micro-STX) and "sBTC" (sats, the real SIP-010 sbtc-token boot contract).
;; Providers own shares; a pool's share price is assets / shares, so premiums (added to assets at
;; policy creation) and payouts (removed at settlement) reach every provider pro rata with no loop.
;; Share math uses a virtual share and asset of 1 (assets+1, shares+1): it can never divide by
;; zero, keeps the sum of what holders can redeem <= assets, and blunts first-depositor tricks.
;; Every rounding step rounds against the caller and in favour of the pool.

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

(define-constant REGISTRY .bithedge-policy-registry)
(define-constant SELF (as-contract tx-sender))

(define-map pools { token: (string-ascii 8), tier: (string-ascii 16) }
  { assets: uint, shares: uint, locked: uint, premiums: uint, payouts: uint })
(define-map positions { token: (string-ascii 8), tier: (string-ascii 16), provider: principal } uint)
(define-map expiry-locked { token: (string-ascii 8), tier: (string-ascii 16), expiry: uint } uint)

;; Voting power = shares held in STX pools (all tiers). Shares are not transferable, and
;; governance reads these values with at-block at the proposal's snapshot block.
(define-map voting-power principal uint)
(define-data-var total-voting-power uint u0)

;; ---------------------------------------------------------------- read-only
(define-read-only (is-supported-token (token (string-ascii 8)))
  (or (is-eq token "STX") (is-eq token "sBTC")))

(define-read-only (get-pool (token (string-ascii 8)) (tier (string-ascii 16)))
  (map-get? pools { token: token, tier: tier }))

(define-read-only (get-shares (token (string-ascii 8)) (tier (string-ascii 16)) (provider principal))
  (default-to u0 (map-get? positions { token: token, tier: tier, provider: provider })))

(define-read-only (get-expiry-locked (token (string-ascii 8)) (tier (string-ascii 16)) (expiry uint))
  (default-to u0 (map-get? expiry-locked { token: token, tier: tier, expiry: expiry })))

(define-read-only (get-voting-power (who principal))
  (default-to u0 (map-get? voting-power who)))

(define-read-only (get-total-voting-power)
  (var-get total-voting-power))

(define-read-only (preview-deposit (token (string-ascii 8)) (tier (string-ascii 16)) (amount uint))
  (match (map-get? pools { token: token, tier: tier })
    p (some (/ (* amount (+ (get shares p) u1)) (+ (get assets p) u1)))
    none))

(define-read-only (preview-withdraw (token (string-ascii 8)) (tier (string-ascii 16)) (shares uint))
  (match (map-get? pools { token: token, tier: tier })
    p (some (/ (* shares (+ (get assets p) u1)) (+ (get shares p) u1)))
    none))

;; ---------------------------------------------------------------- private
(define-private (is-admin (who principal))
  (contract-call? .bithedge-parameters has-role who "admin"))

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

;; ---------------------------------------------------------------- admin
(define-public (create-pool (token (string-ascii 8)) (tier (string-ascii 16)))
  (begin
    (asserts! (is-admin contract-caller) ERR-NOT-AUTHORIZED)
    (asserts! (is-supported-token token) ERR-UNKNOWN-TOKEN)
    (asserts! (is-some (contract-call? .bithedge-parameters get-tier "provider" tier)) ERR-TIER-INACTIVE)
    (asserts! (map-insert pools { token: token, tier: tier }
                { assets: u0, shares: u0, locked: u0, premiums: u0, payouts: u0 }) ERR-POOL-EXISTS)
    (print { event: "pool-created", token: token, tier: tier, sender: contract-caller,
             burn-height: burn-block-height, stacks-height: stacks-block-height })
    (ok true)))

;; ---------------------------------------------------------------- providers
(define-public (deposit (token (string-ascii 8)) (tier (string-ascii 16)) (amount uint))
  (let (
      (provider tx-sender)
      (p (unwrap! (map-get? pools { token: token, tier: tier }) ERR-NO-POOL))
      (t (unwrap! (contract-call? .bithedge-parameters get-tier "provider" tier) ERR-TIER-INACTIVE))
      (minted (/ (* amount (+ (get shares p) u1)) (+ (get assets p) u1)))
      (held (+ (get-shares token tier provider) minted))
      (assets (+ (get assets p) amount))
      (shares (+ (get shares p) minted))
    )
    (asserts! (get active t) ERR-TIER-INACTIVE)
    (asserts! (> amount u0) ERR-ZERO-AMOUNT)
    (asserts! (> minted u0) ERR-ZERO-SHARES)
    (try! (transfer-in token amount provider))
    (map-set pools { token: token, tier: tier } (merge p { assets: assets, shares: shares }))
    (map-set positions { token: token, tier: tier, provider: provider } held)
    (add-power token provider minted)
    (print { event: "pool-deposit", token: token, tier: tier, provider: provider, amount: amount,
             shares: minted, provider-shares: held, pool-assets: assets, pool-shares: shares,
             pool-locked: (get locked p), burn-height: burn-block-height, stacks-height: stacks-block-height })
    (ok minted)))

;; Burns `shares` and pays their value, never more than the pool's unlocked assets.
(define-public (withdraw (token (string-ascii 8)) (tier (string-ascii 16)) (shares uint))
  (let (
      (provider tx-sender)
      (p (unwrap! (map-get? pools { token: token, tier: tier }) ERR-NO-POOL))
      (owned (get-shares token tier provider))
      (amount (/ (* shares (+ (get assets p) u1)) (+ (get shares p) u1)))
    )
    (asserts! (> shares u0) ERR-ZERO-SHARES)
    (asserts! (<= shares owned) ERR-INSUFFICIENT-SHARES)
    (asserts! (<= amount (- (get assets p) (get locked p))) ERR-INSUFFICIENT-UNLOCKED)
    (try! (transfer-out token amount provider))
    (let ((assets (- (get assets p) amount)) (pool-shares (- (get shares p) shares)))
      (map-set pools { token: token, tier: tier } (merge p { assets: assets, shares: pool-shares }))
      (map-set positions { token: token, tier: tier, provider: provider } (- owned shares))
      (sub-power token provider shares)
      (print { event: "pool-withdraw", token: token, tier: tier, provider: provider, amount: amount,
               shares: shares, provider-shares: (- owned shares), pool-assets: assets, pool-shares: pool-shares,
               pool-locked: (get locked p), burn-height: burn-block-height, stacks-height: stacks-block-height })
      (ok amount))))

;; ---------------------------------------------------------------- registry only
;; Locks `collateral` for a new policy and takes `premium` from `payer` (the buyer, who is
;; tx-sender) into the pool. Caps are checked against assets before the premium is added.
;; The registry prints the single event of the transaction, so nothing is printed here.
(define-public (lock-collateral (token (string-ascii 8)) (tier (string-ascii 16)) (expiry uint)
                                (collateral uint) (premium uint) (payer principal))
  (let (
      (p (unwrap! (map-get? pools { token: token, tier: tier }) ERR-NO-POOL))
      (t (unwrap! (contract-call? .bithedge-parameters get-tier "provider" tier) ERR-TIER-INACTIVE))
      (a (get assets p))
      (locked (+ (get locked p) collateral))
      (exp-locked (+ (get-expiry-locked token tier expiry) collateral))
      (assets (+ a premium))
    )
    (asserts! (is-eq contract-caller REGISTRY) ERR-REGISTRY-ONLY)
    (asserts! (get active t) ERR-TIER-INACTIVE)
    (asserts! (<= (* collateral u10000) (* a (get max-exposure-policy-bp t))) ERR-EXPOSURE-POLICY)
    (asserts! (<= (* locked u10000) (* a (get max-utilization-bp t))) ERR-UTILIZATION)
    (asserts! (<= (* exp-locked u10000) (* a (get max-exposure-expiry-bp t))) ERR-EXPOSURE-EXPIRY)
    (try! (transfer-in token premium payer))
    (map-set pools { token: token, tier: tier }
      (merge p { assets: assets, locked: locked, premiums: (+ (get premiums p) premium) }))
    (map-set expiry-locked { token: token, tier: tier, expiry: expiry } exp-locked)
    (ok { pool-assets: assets, pool-shares: (get shares p), pool-locked: locked, expiry-locked: exp-locked })))

;; Releases a settled policy's collateral and pays `payout` (<= collateral) to `recipient`.
(define-public (release-collateral (token (string-ascii 8)) (tier (string-ascii 16)) (expiry uint)
                                   (collateral uint) (payout uint) (recipient principal))
  (let (
      (p (unwrap! (map-get? pools { token: token, tier: tier }) ERR-NO-POOL))
      (exp-locked (get-expiry-locked token tier expiry))
    )
    (asserts! (is-eq contract-caller REGISTRY) ERR-REGISTRY-ONLY)
    (asserts! (and (<= payout collateral) (<= collateral (get locked p)) (<= collateral exp-locked)) ERR-BAD-RELEASE)
    (try! (transfer-out token payout recipient))
    (map-set pools { token: token, tier: tier }
      (merge p { assets: (- (get assets p) payout), locked: (- (get locked p) collateral),
                 payouts: (+ (get payouts p) payout) }))
    (map-set expiry-locked { token: token, tier: tier, expiry: expiry } (- exp-locked collateral))
    (ok { pool-assets: (- (get assets p) payout), pool-shares: (get shares p),
          pool-locked: (- (get locked p) collateral), expiry-locked: (- exp-locked collateral) })))
