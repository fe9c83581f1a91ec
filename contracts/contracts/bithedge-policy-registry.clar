;; bithedge-policy-registry: European BTC puts.
;; A buyer creates a policy with a premium quote signed off chain by a `quote-signer`; in the same
;; transaction the premium is split between treasury, insurance fund and the pool (unearned until
;; the policy closes) and the collateral is locked. After expiry anyone settles policies in bounded
;; batches at the oracle's first price at or after expiry (the proof makes the price unique); the
;; insurance fund tops up a payout capped by the collateral. A policy for which no valid price can
;; exist is voided after `void-after` and its pool premium refunded. Formulas: contracts/README.md.

(define-constant ERR-BAD-SIGNATURE (err u401))
(define-constant ERR-SIGNER-NOT-AUTHORIZED (err u402))
(define-constant ERR-QUOTE-USED (err u403))
(define-constant ERR-QUOTE-EXPIRED (err u404))
(define-constant ERR-POLICY-NOT-FOUND (err u405))
(define-constant ERR-ALREADY-SETTLED (err u406))
(define-constant ERR-NOT-EXPIRED (err u407))
(define-constant ERR-BAD-DURATION (err u408))
(define-constant ERR-BAD-AMOUNT (err u409))
(define-constant ERR-BAD-STRIKE (err u410))
(define-constant ERR-PREMIUM-TOO-LOW (err u411))
(define-constant ERR-PREMIUM-TOO-HIGH (err u412))
(define-constant ERR-TIER-INVALID (err u413))
(define-constant ERR-PRICE-STALE (err u414))
(define-constant ERR-EXPIRY-FULL (err u415))
(define-constant ERR-OWNER-LIMIT (err u416))
(define-constant ERR-UNKNOWN-TOKEN (err u417))
(define-constant ERR-WRONG-EXPIRY (err u418))
(define-constant ERR-QUOTE-LIFE (err u419))
(define-constant ERR-SLIPPAGE (err u420))
(define-constant ERR-PAUSED (err u421))
(define-constant ERR-VOID-TOO-EARLY (err u422))
(define-constant ERR-PRICE-EXISTS (err u423))
;; the oracle's code for a price later than the delay, here checked against the policy's own delay
(define-constant ERR-PRICE-TOO-LATE (err u206))

(define-constant SELF (as-contract tx-sender))
(define-constant ONE8 u100000000)
(define-constant BP u10000)
;; Chosen from measured costs (contracts/README.md "Costs").
(define-constant MAX-BATCH u50)
;; Largest `settle.max-price-delay-blocks`: the batch proof accepts any delay a policy can hold.
(define-constant MAX-PRICE-DELAY u4320)
;; s of a low-S signature is at most n/2 (secp256k1 group order n); lexicographic = numeric here.
(define-constant HALF-N 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0)

(define-data-var last-policy-id uint u0)

(define-map policies uint {
  owner: principal, token: (string-ascii 8), buyer-tier: (string-ascii 16), pool-tier: (string-ascii 16),
  strike: uint, amount: uint, expiry: uint, premium: uint, pool-premium: uint, collateral: uint,
  spot-price: uint, collateral-price: uint, quote-id: uint, created-burn-height: uint,
  price-delay: uint, void-after: uint,
  status: (string-ascii 12), settlement-price: uint, settlement-collateral-price: uint,
  payout: uint, fund-cover: uint, settled-burn-height: uint,
})

(define-map used-quotes uint uint) ;; quote-id -> policy-id
(define-map expiry-count uint uint)
(define-map expiry-policies { expiry: uint, index: uint } uint)
(define-map owner-policy-count principal uint)
(define-map owner-policies { owner: principal, index: uint } uint)
(define-map owner-active principal uint)

;; ---------------------------------------------------------------- read-only
(define-read-only (get-policy (policy-id uint)) (map-get? policies policy-id))
(define-read-only (get-last-policy-id) (var-get last-policy-id))
(define-read-only (get-expiry-policy-count (expiry uint)) (default-to u0 (map-get? expiry-count expiry)))
(define-read-only (get-expiry-policy (expiry uint) (index uint)) (map-get? expiry-policies { expiry: expiry, index: index }))
(define-read-only (get-owner-policy-count (owner principal)) (default-to u0 (map-get? owner-policy-count owner)))
(define-read-only (get-owner-policy (owner principal) (index uint)) (map-get? owner-policies { owner: owner, index: index }))
(define-read-only (get-owner-active (owner principal)) (default-to u0 (map-get? owner-active owner)))
(define-read-only (get-quote-policy (quote-id uint)) (map-get? used-quotes quote-id))
(define-read-only (get-max-batch) MAX-BATCH)

;; Token -> { decimals scale, oracle asset pricing one whole token in USD x 1e8 }.
(define-read-only (token-info (token (string-ascii 8)))
  (if (is-eq token "STX")
    (some { scale: u1000000, asset: "STX" })
    (if (is-eq token "sBTC") (some { scale: u100000000, asset: "BTC" }) none)))

;; The exact tuple the quote signer signs: sha256 of its consensus serialization.
(define-read-only (quote-hash (quote-id uint) (buyer principal) (token (string-ascii 8))
                              (buyer-tier (string-ascii 16)) (pool-tier (string-ascii 16)) (strike uint)
                              (amount uint) (expiry uint) (premium uint) (issued-at uint) (spot uint)
                              (valid-until uint))
  (sha256 (unwrap-panic (to-consensus-buff? {
    domain: "bithedge-quote-v2", chain-id: chain-id, registry: SELF, quote-id: quote-id, buyer: buyer,
    token: token, buyer-tier: buyer-tier, pool-tier: pool-tier, strike: strike, amount: amount,
    expiry: expiry, premium: premium, issued-at: issued-at, spot: spot, valid-until: valid-until }))))

;; value (USD x 1e8 per BTC) x sats -> collateral-token base units at `price` (USD x 1e8 per token).
(define-read-only (usd-diff-to-units (usd-per-btc uint) (amount uint) (scale uint) (price uint))
  (/ (* (* usd-per-btc amount) scale) (* ONE8 price)))

(define-read-only (ceil-div (a uint) (b uint)) (/ (+ a (- b u1)) b))

;; Collateral and premium bounds of a policy (README "Policy terms"). The payout is fully covered
;; while the collateral price stays at or above `stress-price` (for sBTC: BTC >= coverage-floor).
(define-read-only (policy-terms (token (string-ascii 8)) (strike uint) (amount uint) (spot uint) (price uint)
                                (ratio-bp uint) (adj-bp uint) (min-bp uint) (max-bp uint) (stress-bp uint))
  (let (
      (scale (get scale (unwrap! (token-info token) ERR-UNKNOWN-TOKEN)))
      (stressed (/ (* price stress-bp) BP))
      (stress-price (if (> stressed u0) stressed u1))
      (floor (if (is-eq token "sBTC") stress-price u0))
      (max-payout (if (> strike floor) (ceil-div (* (* (- strike floor) amount) scale) (* ONE8 stress-price)) u0))
      (intrinsic (if (> strike spot) (usd-diff-to-units (- strike spot) amount scale price) u0))
    )
    (ok {
      max-payout: max-payout,
      collateral: (ceil-div (* max-payout ratio-bp) BP),
      intrinsic: intrinsic,
      min-premium: (+ intrinsic (ceil-div (* (ceil-div (* max-payout min-bp) BP) adj-bp) BP)),
      max-premium: (/ (* max-payout max-bp) BP),
      stress-price: stress-price,
      coverage-floor: floor,
    })))

;; Settlement amounts (README "Settlement"): the pool pays at most the collateral.
(define-read-only (payout-terms (token (string-ascii 8)) (strike uint) (amount uint) (settle-price uint)
                                (price uint) (collateral uint))
  (let (
      (scale (get scale (unwrap! (token-info token) ERR-UNKNOWN-TOKEN)))
      (uncapped (if (> strike settle-price) (usd-diff-to-units (- strike settle-price) amount scale price) u0))
      (payout (if (> uncapped collateral) collateral uncapped))
    )
    (ok { uncapped: uncapped, payout: payout, shortfall: (- uncapped payout) })))

(define-read-only (premium-split (premium uint) (fee-bp uint) (fund-bp uint))
  (let ((fee (/ (* premium fee-bp) BP)) (fund (/ (* premium fund-bp) BP)))
    { fee: fee, fund: fund, pool: (- premium (+ fee fund)) }))

;; policy-terms at the current oracle prices, tier and parameters, plus the premium split rates.
(define-read-only (quote-terms (token (string-ascii 8)) (buyer-tier (string-ascii 16)) (strike uint) (amount uint))
  (let (
      (info (unwrap! (token-info token) ERR-UNKNOWN-TOKEN))
      (tier (unwrap! (contract-call? .bithedge-parameters get-tier "buyer" buyer-tier) ERR-TIER-INVALID))
      (cfg (contract-call? .bithedge-parameters get-policy-config))
      (btc (unwrap! (contract-call? .bithedge-oracle get-latest "BTC") ERR-PRICE-STALE))
      (coll (unwrap! (contract-call? .bithedge-oracle get-latest (get asset info)) ERR-PRICE-STALE))
      (terms (try! (policy-terms token strike amount (get price btc) (get price coll)
                                 (get collateral-ratio-bp tier) (get premium-adjustment-bp tier)
                                 (get premium-min-bp cfg) (get premium-max-bp cfg) (token-stress-bp token (get stress-stx-bp cfg) (get stress-sbtc-bp cfg)))))
    )
    (ok (merge terms { spot: (get price btc), collateral-price: (get price coll),
                       fee-bp: (get fee-bp cfg), fund-bp: (get fund-bp cfg) }))))

(define-private (token-stress-bp (token (string-ascii 8)) (stx-bp uint) (sbtc-bp uint))
  (if (is-eq token "sBTC") sbtc-bp stx-bp))

(define-private (low-s (signature (buff 65)))
  (match (slice? signature u32 u64) s (<= s HALF-N) false))

;; ---------------------------------------------------------------- create
(define-public (create-policy (quote-id uint) (token (string-ascii 8)) (buyer-tier (string-ascii 16))
                              (pool-tier (string-ascii 16)) (strike uint) (amount uint) (expiry uint)
                              (premium uint) (issued-at uint) (spot uint) (valid-until uint) (signature (buff 65)))
  (let (
      (now burn-block-height)
      (buyer tx-sender)
      (digest (quote-hash quote-id buyer token buyer-tier pool-tier strike amount expiry premium issued-at spot valid-until))
      (signer-key (unwrap! (secp256k1-recover? digest signature) ERR-BAD-SIGNATURE))
      (signer (unwrap! (principal-of? signer-key) ERR-BAD-SIGNATURE))
      (cfg (contract-call? .bithedge-parameters get-policy-config))
      (info (unwrap! (token-info token) ERR-UNKNOWN-TOKEN))
      (tier (unwrap! (contract-call? .bithedge-parameters get-tier "buyer" buyer-tier) ERR-TIER-INVALID))
      (btc (unwrap! (contract-call? .bithedge-oracle get-latest "BTC") ERR-PRICE-STALE))
      (coll (unwrap! (contract-call? .bithedge-oracle get-latest (get asset info)) ERR-PRICE-STALE))
      (active (get-owner-active buyer))
      (btc-price (get price btc))
    )
    (asserts! (not (contract-call? .bithedge-parameters is-paused "create-policy")) ERR-PAUSED)
    (asserts! (low-s signature) ERR-BAD-SIGNATURE)
    (asserts! (contract-call? .bithedge-parameters has-role signer "quote-signer") ERR-SIGNER-NOT-AUTHORIZED)
    (asserts! (is-none (map-get? used-quotes quote-id)) ERR-QUOTE-USED)
    (asserts! (<= now valid-until) ERR-QUOTE-EXPIRED)
    (asserts! (and (<= issued-at now) (<= (- valid-until issued-at) (get quote-max-life-blocks cfg))) ERR-QUOTE-LIFE)
    (asserts! (<= (* (if (> btc-price spot) (- btc-price spot) (- spot btc-price)) BP)
                  (* spot (get quote-max-slippage-bp cfg))) ERR-SLIPPAGE)
    (asserts! (get active tier) ERR-TIER-INVALID)
    (asserts! (and (<= (- now (get height btc)) (get max-price-age-blocks cfg))
                   (<= (- now (get height coll)) (get max-price-age-blocks cfg))) ERR-PRICE-STALE)
    (asserts! (and (> expiry now)
                   (>= (- expiry now) (get min-duration-blocks cfg))
                   (<= (- expiry now) (get max-duration-blocks cfg))) ERR-BAD-DURATION)
    (asserts! (and (>= amount (get min-amount-sats cfg)) (<= amount (get max-amount-sats cfg))) ERR-BAD-AMOUNT)
    (asserts! (and (>= (* strike BP) (* btc-price (get min-strike-bp cfg)))
                   (<= (* strike BP) (* btc-price (get max-strike-bp cfg)))) ERR-BAD-STRIKE)
    (asserts! (< active (get max-active-per-owner cfg)) ERR-OWNER-LIMIT)
    (let (
        (terms (try! (policy-terms token strike amount btc-price (get price coll)
                                   (get collateral-ratio-bp tier) (get premium-adjustment-bp tier)
                                   (get premium-min-bp cfg) (get premium-max-bp cfg) (token-stress-bp token (get stress-stx-bp cfg) (get stress-sbtc-bp cfg)))))
        (collateral (get collateral terms))
        (split (premium-split premium (get fee-bp cfg) (get fund-bp cfg)))
        (policy-id (+ (var-get last-policy-id) u1))
        (owner-count (get-owner-policy-count buyer))
        (expiry-n (get-expiry-policy-count expiry))
        (delay (get price-delay-blocks cfg))
        (void-after (+ expiry delay (get void-grace-blocks cfg)))
      )
      (asserts! (> (get max-payout terms) u0) ERR-BAD-STRIKE)
      (asserts! (and (> premium u0) (>= premium (get min-premium terms))) ERR-PREMIUM-TOO-LOW)
      (asserts! (<= premium (get max-premium terms)) ERR-PREMIUM-TOO-HIGH)
      (if (> (get fee split) u0)
        (try! (contract-call? .bithedge-treasury collect-fee token (get fee split) buyer policy-id)) u0)
      (if (> (get fund split) u0)
        (try! (contract-call? .bithedge-insurance-fund collect-premium token (get fund split) buyer policy-id)) u0)
      (let ((pool (try! (contract-call? .bithedge-vault lock-collateral token pool-tier expiry collateral (get pool split) buyer))))
        (var-set last-policy-id policy-id)
        (map-set used-quotes quote-id policy-id)
        (map-set policies policy-id {
          owner: buyer, token: token, buyer-tier: buyer-tier, pool-tier: pool-tier,
          strike: strike, amount: amount, expiry: expiry, premium: premium, pool-premium: (get pool split),
          collateral: collateral, spot-price: btc-price, collateral-price: (get price coll), quote-id: quote-id,
          created-burn-height: now, price-delay: delay, void-after: void-after, status: "active",
          settlement-price: u0, settlement-collateral-price: u0, payout: u0, fund-cover: u0, settled-burn-height: u0 })
        (map-set expiry-policies { expiry: expiry, index: expiry-n } policy-id)
        (map-set expiry-count expiry (+ expiry-n u1))
        (map-set owner-policies { owner: buyer, index: owner-count } policy-id)
        (map-set owner-policy-count buyer (+ owner-count u1))
        (map-set owner-active buyer (+ active u1))
        (print {
          event: "policy-created", policy-id: policy-id, owner: buyer, quote-id: quote-id, signer: signer,
          token: token, tier: pool-tier, buyer-tier: buyer-tier, strike: strike, amount: amount,
          expiry: expiry, premium: premium, protocol-fee: (get fee split), fund-share: (get fund split),
          pool-premium: (get pool split), collateral: collateral, max-payout: (get max-payout terms),
          stress-price: (get stress-price terms), coverage-floor: (get coverage-floor terms),
          spot-price: btc-price, spot-price-height: (get height btc), quote-spot: spot, issued-at: issued-at,
          collateral-price: (get price coll), collateral-price-height: (get height coll),
          price-delay: delay, void-after: void-after,
          pool-assets: (get pool-assets pool), pool-unearned: (get pool-unearned pool), pool-shares: (get pool-shares pool),
          pool-locked: (get pool-locked pool), pool-pending-shares: (get pool-pending-shares pool),
          expiry-locked: (get expiry-locked pool), expiry-count: (+ expiry-n u1), owner-active: (+ active u1),
          burn-height: now, stacks-height: stacks-block-height })
        (ok policy-id)))))

;; ---------------------------------------------------------------- settle
(define-private (settle-one (policy-id uint)
                            (ctx { expiry: uint, btc: (response uint uint), btc-height: uint,
                                   stx: (response uint uint), stx-height: uint }))
  (let (
      (p (unwrap! (map-get? policies policy-id) ERR-POLICY-NOT-FOUND))
      (is-stx (is-eq (get token p) "STX"))
    )
    (asserts! (is-eq (get status p) "active") ERR-ALREADY-SETTLED)
    (asserts! (is-eq (get expiry p) (get expiry ctx)) ERR-WRONG-EXPIRY)
    (let (
        (btc (try! (get btc ctx)))
        (coll (if is-stx (try! (get stx ctx)) btc))
        (coll-height (if is-stx (get stx-height ctx) (get btc-height ctx)))
      )
      (asserts! (and (<= (- (get btc-height ctx) (get expiry p)) (get price-delay p))
                     (<= (- coll-height (get expiry p)) (get price-delay p))) ERR-PRICE-TOO-LATE)
      (let (
          (amounts (try! (payout-terms (get token p) (get strike p) (get amount p) btc coll (get collateral p))))
          (payout (get payout amounts))
          (cover (if (> (get shortfall amounts) u0)
                   (try! (contract-call? .bithedge-insurance-fund cover (get token p) policy-id (get shortfall amounts) (get owner p)))
                   u0))
          (pool (try! (contract-call? .bithedge-vault release-collateral (get token p) (get pool-tier p) (get expiry p)
                                       (get collateral p) (get pool-premium p) payout false (get owner p))))
          (active (- (get-owner-active (get owner p)) u1))
          (status (if (> payout u0) "settled-itm" "settled-otm"))
        )
        (map-set policies policy-id
          (merge p { status: status, settlement-price: btc, settlement-collateral-price: coll,
                     payout: payout, fund-cover: cover, settled-burn-height: burn-block-height }))
        (map-set owner-active (get owner p) active)
        (print {
          event: "policy-settled", policy-id: policy-id, owner: (get owner p), token: (get token p),
          tier: (get pool-tier p), buyer-tier: (get buyer-tier p), status: status,
          strike: (get strike p), amount: (get amount p), expiry: (get expiry p), premium: (get premium p),
          pool-premium: (get pool-premium p), collateral: (get collateral p), uncapped-payout: (get uncapped amounts),
          payout: payout, shortfall: (get shortfall amounts), fund-cover: cover, released: (- (get collateral p) payout),
          settlement-price: btc, settlement-price-height: (get btc-height ctx),
          collateral-price: coll, collateral-price-height: coll-height,
          pool-assets: (get pool-assets pool), pool-unearned: (get pool-unearned pool), pool-shares: (get pool-shares pool),
          pool-locked: (get pool-locked pool), pool-pending-shares: (get pool-pending-shares pool),
          expiry-locked: (get expiry-locked pool), owner-active: active, settler: contract-caller,
          burn-height: burn-block-height, stacks-height: stacks-block-height })
        (ok payout)))))

(define-private (settle-step (policy-id uint)
                             (acc { ctx: { expiry: uint, btc: (response uint uint), btc-height: uint,
                                           stx: (response uint uint), stx-height: uint },
                                    results: (list 50 (response uint uint)) }))
  (merge acc { results: (unwrap-panic (as-max-len? (append (get results acc) (settle-one policy-id (get ctx acc))) u50)) }))

;; Anyone settles up to MAX-BATCH policies expiring at `expiry`. Prices are the first BTC (and STX)
;; prices recorded at or after `expiry`, located at `btc-price-height` / `stx-price-height` (pass
;; any value for STX when the batch has no STX policies), no later than each policy's price delay.
;; Each item gets its own result: (ok payout) or (err code); a bad item never aborts the batch.
(define-public (settle-expired (expiry uint) (btc-price-height uint) (stx-price-height uint)
                               (policy-ids (list 50 uint)))
  (let (
      (ctx { expiry: expiry,
             btc: (contract-call? .bithedge-oracle get-settlement-price "BTC" expiry btc-price-height MAX-PRICE-DELAY),
             btc-height: btc-price-height,
             stx: (contract-call? .bithedge-oracle get-settlement-price "STX" expiry stx-price-height MAX-PRICE-DELAY),
             stx-height: stx-price-height })
    )
    (asserts! (< expiry burn-block-height) ERR-NOT-EXPIRED)
    (ok (get results (fold settle-step policy-ids { ctx: ctx, results: (list) })))))

;; ---------------------------------------------------------------- void
;; Anyone voids an active policy after its void-after height when one of its assets has no valid
;; settlement price (none at or after expiry, or the first one later than the policy's delay):
;; collateral goes back to the pool, the pool premium back to the owner (fee and fund share stay).
(define-public (void-policy (policy-id uint) (btc-price-height uint) (stx-price-height uint))
  (let (
      (p (unwrap! (map-get? policies policy-id) ERR-POLICY-NOT-FOUND))
      (delay (get price-delay p))
      (btc-missing (contract-call? .bithedge-oracle no-settlement-price "BTC" (get expiry p) btc-price-height delay))
      (stx-missing (and (is-eq (get token p) "STX")
                        (contract-call? .bithedge-oracle no-settlement-price "STX" (get expiry p) stx-price-height delay)))
    )
    (asserts! (is-eq (get status p) "active") ERR-ALREADY-SETTLED)
    (asserts! (> burn-block-height (get void-after p)) ERR-VOID-TOO-EARLY)
    (asserts! (or btc-missing stx-missing) ERR-PRICE-EXISTS)
    (let (
        (pool (try! (contract-call? .bithedge-vault release-collateral (get token p) (get pool-tier p) (get expiry p)
                                     (get collateral p) (get pool-premium p) u0 true (get owner p))))
        (active (- (get-owner-active (get owner p)) u1))
      )
      (map-set policies policy-id (merge p { status: "voided", settled-burn-height: burn-block-height }))
      (map-set owner-active (get owner p) active)
      (print {
        event: "policy-voided", policy-id: policy-id, owner: (get owner p), token: (get token p),
        tier: (get pool-tier p), buyer-tier: (get buyer-tier p), expiry: (get expiry p), premium: (get premium p),
        refund: (get pool-premium p), collateral: (get collateral p), void-after: (get void-after p),
        missing-asset: (if btc-missing "BTC" "STX"),
        pool-assets: (get pool-assets pool), pool-unearned: (get pool-unearned pool), pool-shares: (get pool-shares pool),
        pool-locked: (get pool-locked pool), pool-pending-shares: (get pool-pending-shares pool),
        expiry-locked: (get expiry-locked pool), owner-active: active, sender: contract-caller,
        burn-height: burn-block-height, stacks-height: stacks-block-height })
      (ok (get pool-premium p)))))
