;; bithedge-policy-registry: European BTC puts.
;; A buyer creates a policy with a premium quote signed off chain by a `quote-signer`; the premium
;; moves into the vault and the collateral is locked in the same transaction. At or after expiry
;; the keeper settles policies in bounded batches at the oracle's first price at or after expiry.
;; Formulas and units: contracts/README.md.

(define-constant ERR-NOT-AUTHORIZED (err u400))
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

(define-constant SELF (as-contract tx-sender))
(define-constant ONE8 u100000000)
(define-constant BP u10000)
;; Chosen from measured costs (contracts/README.md "Costs").
(define-constant MAX-BATCH u50)

(define-data-var last-policy-id uint u0)

(define-map policies uint {
  owner: principal, token: (string-ascii 8), buyer-tier: (string-ascii 16), pool-tier: (string-ascii 16),
  strike: uint, amount: uint, expiry: uint, premium: uint, collateral: uint,
  spot-price: uint, collateral-price: uint, quote-id: uint, created-burn-height: uint,
  status: (string-ascii 12), settlement-price: uint, settlement-collateral-price: uint,
  payout: uint, settled-burn-height: uint,
})

(define-map used-quotes uint uint) ;; quote-id -> policy-id
(define-map expiry-index uint (list 200 uint))
(define-map owner-policy-count principal uint)
(define-map owner-policies { owner: principal, index: uint } uint)
(define-map owner-active principal uint)

;; ---------------------------------------------------------------- read-only
(define-read-only (get-policy (policy-id uint)) (map-get? policies policy-id))
(define-read-only (get-last-policy-id) (var-get last-policy-id))
(define-read-only (get-expiry-policies (expiry uint)) (default-to (list) (map-get? expiry-index expiry)))
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
                              (amount uint) (expiry uint) (premium uint) (valid-until uint))
  (sha256 (unwrap-panic (to-consensus-buff? {
    domain: "bithedge-quote-v1", chain-id: chain-id, registry: SELF, quote-id: quote-id, buyer: buyer,
    token: token, buyer-tier: buyer-tier, pool-tier: pool-tier, strike: strike, amount: amount,
    expiry: expiry, premium: premium, valid-until: valid-until }))))

;; value (USD x 1e8 per BTC) x sats -> collateral-token base units at `price` (USD x 1e8 per token).
(define-read-only (usd-diff-to-units (usd-per-btc uint) (amount uint) (scale uint) (price uint))
  (/ (* (* usd-per-btc amount) scale) (* ONE8 price)))

(define-read-only (ceil-div (a uint) (b uint)) (/ (+ a (- b u1)) b))

;; Collateral and premium bounds for a prospective policy, all in collateral-token base units.
(define-read-only (policy-terms (strike uint) (amount uint) (spot uint) (scale uint) (price uint)
                                (ratio-bp uint) (adj-bp uint) (min-bp uint) (max-bp uint))
  (let (
      (max-payout (ceil-div (* (* strike amount) scale) (* ONE8 price)))
      (intrinsic (if (> strike spot) (usd-diff-to-units (- strike spot) amount scale price) u0))
      (floor-premium (ceil-div (* max-payout min-bp) BP))
      (base-min (if (> intrinsic floor-premium) intrinsic floor-premium))
    )
    {
      max-payout: max-payout,
      collateral: (ceil-div (* max-payout ratio-bp) BP),
      intrinsic: intrinsic,
      min-premium: (ceil-div (* base-min adj-bp) BP),
      max-premium: (/ (* max-payout max-bp) BP),
    }))

;; ---------------------------------------------------------------- create
(define-public (create-policy (quote-id uint) (token (string-ascii 8)) (buyer-tier (string-ascii 16))
                              (pool-tier (string-ascii 16)) (strike uint) (amount uint) (expiry uint)
                              (premium uint) (valid-until uint) (signature (buff 65)))
  (let (
      (now burn-block-height)
      (buyer tx-sender)
      (digest (quote-hash quote-id buyer token buyer-tier pool-tier strike amount expiry premium valid-until))
      (signer-key (unwrap! (secp256k1-recover? digest signature) ERR-BAD-SIGNATURE))
      (signer (unwrap! (principal-of? signer-key) ERR-BAD-SIGNATURE))
      (cfg (contract-call? .bithedge-parameters get-policy-config))
      (info (unwrap! (token-info token) ERR-UNKNOWN-TOKEN))
      (tier (unwrap! (contract-call? .bithedge-parameters get-tier "buyer" buyer-tier) ERR-TIER-INVALID))
      (btc (unwrap! (contract-call? .bithedge-oracle get-latest "BTC") ERR-PRICE-STALE))
      (coll (unwrap! (contract-call? .bithedge-oracle get-latest (get asset info)) ERR-PRICE-STALE))
      (expiry-ids (get-expiry-policies expiry))
      (active (get-owner-active buyer))
    )
    (asserts! (contract-call? .bithedge-parameters has-role signer "quote-signer") ERR-SIGNER-NOT-AUTHORIZED)
    (asserts! (is-none (map-get? used-quotes quote-id)) ERR-QUOTE-USED)
    (asserts! (<= now valid-until) ERR-QUOTE-EXPIRED)
    (asserts! (get active tier) ERR-TIER-INVALID)
    (asserts! (and (<= (- now (get height btc)) (get max-price-age-blocks cfg))
                   (<= (- now (get height coll)) (get max-price-age-blocks cfg))) ERR-PRICE-STALE)
    (asserts! (and (> expiry now)
                   (>= (- expiry now) (get min-duration-blocks cfg))
                   (<= (- expiry now) (get max-duration-blocks cfg))) ERR-BAD-DURATION)
    (asserts! (and (>= amount (get min-amount-sats cfg)) (<= amount (get max-amount-sats cfg))) ERR-BAD-AMOUNT)
    (asserts! (and (>= (* strike BP) (* (get price btc) (get min-strike-bp cfg)))
                   (<= (* strike BP) (* (get price btc) (get max-strike-bp cfg)))) ERR-BAD-STRIKE)
    (asserts! (< (len expiry-ids) (get max-per-expiry cfg)) ERR-EXPIRY-FULL)
    (asserts! (< active (get max-active-per-owner cfg)) ERR-OWNER-LIMIT)
    (let (
        (terms (policy-terms strike amount (get price btc) (get scale info) (get price coll)
                             (get collateral-ratio-bp tier) (get premium-adjustment-bp tier)
                             (get premium-min-bp cfg) (get premium-max-bp cfg)))
        (collateral (get collateral terms))
        (policy-id (+ (var-get last-policy-id) u1))
        (owner-count (get-owner-policy-count buyer))
      )
      (asserts! (and (> premium u0) (>= premium (get min-premium terms))) ERR-PREMIUM-TOO-LOW)
      (asserts! (<= premium (get max-premium terms)) ERR-PREMIUM-TOO-HIGH)
      (let ((pool (try! (contract-call? .bithedge-vault lock-collateral token pool-tier expiry collateral premium buyer))))
        (var-set last-policy-id policy-id)
        (map-set used-quotes quote-id policy-id)
        (map-set policies policy-id {
          owner: buyer, token: token, buyer-tier: buyer-tier, pool-tier: pool-tier,
          strike: strike, amount: amount, expiry: expiry, premium: premium, collateral: collateral,
          spot-price: (get price btc), collateral-price: (get price coll), quote-id: quote-id,
          created-burn-height: now, status: "active", settlement-price: u0,
          settlement-collateral-price: u0, payout: u0, settled-burn-height: u0 })
        (map-set expiry-index expiry (unwrap! (as-max-len? (append expiry-ids policy-id) u200) ERR-EXPIRY-FULL))
        (map-set owner-policies { owner: buyer, index: owner-count } policy-id)
        (map-set owner-policy-count buyer (+ owner-count u1))
        (map-set owner-active buyer (+ active u1))
        (print {
          event: "policy-created", policy-id: policy-id, owner: buyer, quote-id: quote-id, signer: signer,
          token: token, tier: pool-tier, buyer-tier: buyer-tier, strike: strike, amount: amount,
          expiry: expiry, premium: premium, collateral: collateral, max-payout: (get max-payout terms),
          spot-price: (get price btc), spot-price-height: (get height btc),
          collateral-price: (get price coll), collateral-price-height: (get height coll),
          pool-assets: (get pool-assets pool), pool-shares: (get pool-shares pool),
          pool-locked: (get pool-locked pool), expiry-locked: (get expiry-locked pool),
          expiry-count: (+ (len expiry-ids) u1), owner-active: (+ active u1),
          burn-height: now, stacks-height: stacks-block-height })
        (ok policy-id)))))

;; ---------------------------------------------------------------- settle
(define-private (settle-one (policy-id uint)
                            (ctx { expiry: uint, btc: (response uint uint), btc-height: uint,
                                   stx: (response uint uint), stx-height: uint }))
  (let (
      (p (unwrap! (map-get? policies policy-id) ERR-POLICY-NOT-FOUND))
      (info (unwrap-panic (token-info (get token p))))
      (is-stx (is-eq (get token p) "STX"))
    )
    (asserts! (is-eq (get status p) "active") ERR-ALREADY-SETTLED)
    (asserts! (is-eq (get expiry p) (get expiry ctx)) ERR-WRONG-EXPIRY)
    (let (
        (btc (try! (get btc ctx)))
        (coll (if is-stx (try! (get stx ctx)) btc))
        (intrinsic (if (> (get strike p) btc)
                     (usd-diff-to-units (- (get strike p) btc) (get amount p) (get scale info) coll)
                     u0))
        ;; The payout can never exceed what the pool locked for this policy.
        (payout (if (> intrinsic (get collateral p)) (get collateral p) intrinsic))
        (pool (try! (contract-call? .bithedge-vault release-collateral (get token p) (get pool-tier p)
                                     (get expiry p) (get collateral p) payout (get owner p))))
        (active (- (get-owner-active (get owner p)) u1))
        (status (if (> payout u0) "settled-itm" "settled-otm"))
      )
      (map-set policies policy-id
        (merge p { status: status, settlement-price: btc, settlement-collateral-price: coll,
                   payout: payout, settled-burn-height: burn-block-height }))
      (map-set owner-active (get owner p) active)
      (print {
        event: "policy-settled", policy-id: policy-id, owner: (get owner p), token: (get token p),
        tier: (get pool-tier p), buyer-tier: (get buyer-tier p), status: status,
        strike: (get strike p), amount: (get amount p), expiry: (get expiry p), premium: (get premium p),
        collateral: (get collateral p), payout: payout, released: (- (get collateral p) payout),
        settlement-price: btc, settlement-price-height: (get btc-height ctx),
        collateral-price: coll, collateral-price-height: (if is-stx (get stx-height ctx) (get btc-height ctx)),
        pool-assets: (get pool-assets pool), pool-shares: (get pool-shares pool),
        pool-locked: (get pool-locked pool), expiry-locked: (get expiry-locked pool),
        owner-active: active, keeper: contract-caller,
        burn-height: burn-block-height, stacks-height: stacks-block-height })
      (ok payout))))

(define-private (settle-step (policy-id uint)
                             (acc { ctx: { expiry: uint, btc: (response uint uint), btc-height: uint,
                                           stx: (response uint uint), stx-height: uint },
                                    results: (list 50 (response uint uint)) }))
  (merge acc { results: (unwrap-panic (as-max-len? (append (get results acc) (settle-one policy-id (get ctx acc))) u50)) }))

;; Settles up to MAX-BATCH policies expiring at `expiry`. Prices are the first BTC (and STX) prices
;; recorded at or after `expiry`, located by the keeper at `btc-price-height` / `stx-price-height`
;; (pass any value for STX when the batch has no STX policies). Each item gets its own result:
;; (ok payout) or (err code); a bad item never aborts the batch, and a settled policy stays settled.
(define-public (settle-expired (expiry uint) (btc-price-height uint) (stx-price-height uint)
                               (policy-ids (list 50 uint)))
  (let (
      (max-delay (contract-call? .bithedge-parameters get-param "settle.max-price-delay-blocks"))
      (ctx { expiry: expiry,
             btc: (contract-call? .bithedge-oracle get-settlement-price "BTC" expiry btc-price-height max-delay),
             btc-height: btc-price-height,
             stx: (contract-call? .bithedge-oracle get-settlement-price "STX" expiry stx-price-height max-delay),
             stx-height: stx-price-height })
    )
    (asserts! (contract-call? .bithedge-parameters has-role contract-caller "keeper") ERR-NOT-AUTHORIZED)
    (asserts! (< expiry burn-block-height) ERR-NOT-EXPIRED)
    (ok (get results (fold settle-step policy-ids { ctx: ctx, results: (list) })))))
