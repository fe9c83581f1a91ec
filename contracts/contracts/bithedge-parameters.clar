;; bithedge-parameters: typed protocol parameters, risk tiers and roles.
;; Units: see contracts/README.md. Every parameter is a uint whose unit is the key suffix
;; (-bp basis points, -blocks burn blocks, -sats satoshis, -shares vault shares).
;; Changes come from an `admin` or from the `governance-executor` (the governance contract).
;; Role checks use contract-caller so that no intermediate contract can act with a user's role.
;; Pause flags stop new business only (policy creation, deposits, proposals); nothing that lets
;; anyone take out free funds, settle or void reads them.

(define-constant ERR-NOT-AUTHORIZED (err u100))
(define-constant ERR-UNKNOWN-PARAM (err u101))
(define-constant ERR-OUT-OF-BOUNDS (err u102))
(define-constant ERR-UNKNOWN-TIER (err u103))
(define-constant ERR-UNKNOWN-FIELD (err u104))
(define-constant ERR-INVALID-ROLE (err u105))
(define-constant ERR-SELF-REVOKE (err u106))
(define-constant ERR-INVALID-TIER-KIND (err u107))
(define-constant ERR-UNKNOWN-ACTION (err u108))

(define-constant ROLE-ADMIN "admin")
(define-constant ROLE-GOV "governance-executor")
(define-constant ROLE-GUARDIAN "guardian")
;; Mainnet governance timings cannot be shortened below a day (in burn blocks); devnet/simnet may.
(define-constant GOV-DAY (if is-in-mainnet u144 u1))

(define-map roles { who: principal, role: (string-ascii 24) } bool)

;; min/max stored next to the value so that governance cannot set nonsense (e.g. a bp above 10000).
(define-map params (string-ascii 40) { value: uint, min: uint, max: uint })

(define-map paused (string-ascii 16) bool)

(define-map tiers { kind: (string-ascii 8), name: (string-ascii 16) }
  {
    collateral-ratio-bp: uint,
    premium-adjustment-bp: uint,
    max-utilization-bp: uint,
    max-exposure-policy-bp: uint,
    max-exposure-expiry-bp: uint,
    active: bool,
  })

;; ---------------------------------------------------------------- deploy-time seed
;; The deployer is the first admin; the governance contract is structurally the executor.
;; Operational roles (keeper, oracle-submitter, quote-signer) are granted by explicit admin calls
;; (see contracts/devnet-setup.json) so that no devnet principal is baked into the code.
(map-set roles { who: tx-sender, role: ROLE-ADMIN } true)
(map-set roles { who: .bithedge-governance, role: ROLE-GOV } true)

(map-set params "oracle.max-deviation-bp" { value: u1000, min: u10, max: u5000 })
(map-set params "oracle.stale-after-blocks" { value: u6, min: u1, max: u1008 })
(map-set params "oracle.max-gap-deviation-bp" { value: u5000, min: u100, max: u9000 })
(map-set params "oracle.max-updates-per-block" { value: u2, min: u1, max: u10 })
(map-set params "policy.max-price-age-blocks" { value: u3, min: u0, max: u144 })
(map-set params "policy.min-duration-blocks" { value: u6, min: u1, max: u52560 })
(map-set params "policy.max-duration-blocks" { value: u52560, min: u1, max: u262800 })
(map-set params "policy.min-amount-sats" { value: u10000, min: u1, max: u10000000000 })
(map-set params "policy.max-amount-sats" { value: u1000000000, min: u1, max: u10000000000 })
(map-set params "policy.min-strike-bp" { value: u5000, min: u1, max: u10000 })
(map-set params "policy.max-strike-bp" { value: u15000, min: u10000, max: u30000 })
(map-set params "policy.max-active-per-owner" { value: u50, min: u1, max: u1000 })
(map-set params "premium.min-bp" { value: u10, min: u1, max: u10000 })
(map-set params "premium.max-bp" { value: u5000, min: u1, max: u10000 })
(map-set params "settle.max-price-delay-blocks" { value: u144, min: u6, max: u4320 })
(map-set params "settle.void-grace-blocks" { value: u144, min: u6, max: u4320 })
(map-set params "quote.max-life-blocks" { value: u6, min: u1, max: u144 })
(map-set params "quote.max-slippage-bp" { value: u100, min: u1, max: u2000 })
(map-set params "stress.stx-price-bp" { value: u6000, min: u1000, max: u10000 })
(map-set params "stress.sbtc-price-bp" { value: u5000, min: u1000, max: u9000 })
(map-set params "fee.protocol-bp" { value: u300, min: u0, max: u2000 })
(map-set params "fund.premium-bp" { value: u500, min: u0, max: u3000 })
(map-set params "gov.voting-delay-blocks" { value: u300, min: (if is-in-mainnet u100 u1), max: u100000 })
(map-set params "gov.voting-period-blocks" { value: u144, min: (if is-in-mainnet u144 u10), max: u4320 })
(map-set params "gov.timelock-blocks" { value: u144, min: GOV-DAY, max: u4320 })
(map-set params "gov.execution-grace-blocks" { value: u1008, min: GOV-DAY, max: u52560 })
(map-set params "gov.quorum-bp" { value: u2000, min: u1000, max: u10000 })
(map-set params "gov.threshold-bp" { value: u5000, min: u5000, max: u9999 })
(map-set params "gov.proposal-min-power" { value: u1000000000, min: u1, max: u1000000000000000 })
;; v1 key, read only by the v1 governance; removed once governance measures power by value.
(map-set params "gov.proposal-min-shares" { value: u1000000, min: u1, max: u1000000000000000 })

;; Buyer tiers use collateral-ratio-bp and premium-adjustment-bp; provider tiers (= pools) use the
;; utilization and exposure caps. Both carry all fields so that one setter covers every tier.
(map-set tiers { kind: "buyer", name: "conservative" }
  { collateral-ratio-bp: u12000, premium-adjustment-bp: u11000, max-utilization-bp: u10000,
    max-exposure-policy-bp: u10000, max-exposure-expiry-bp: u10000, active: true })
(map-set tiers { kind: "buyer", name: "standard" }
  { collateral-ratio-bp: u11000, premium-adjustment-bp: u10000, max-utilization-bp: u10000,
    max-exposure-policy-bp: u10000, max-exposure-expiry-bp: u10000, active: true })
(map-set tiers { kind: "buyer", name: "flexible" }
  { collateral-ratio-bp: u10000, premium-adjustment-bp: u9000, max-utilization-bp: u10000,
    max-exposure-policy-bp: u10000, max-exposure-expiry-bp: u10000, active: true })
(map-set tiers { kind: "provider", name: "conservative" }
  { collateral-ratio-bp: u10000, premium-adjustment-bp: u10000, max-utilization-bp: u5000,
    max-exposure-policy-bp: u1000, max-exposure-expiry-bp: u2500, active: true })
(map-set tiers { kind: "provider", name: "balanced" }
  { collateral-ratio-bp: u10000, premium-adjustment-bp: u10000, max-utilization-bp: u7000,
    max-exposure-policy-bp: u2000, max-exposure-expiry-bp: u4000, active: true })
(map-set tiers { kind: "provider", name: "aggressive" }
  { collateral-ratio-bp: u10000, premium-adjustment-bp: u10000, max-utilization-bp: u9000,
    max-exposure-policy-bp: u3000, max-exposure-expiry-bp: u6000, active: true })

;; ---------------------------------------------------------------- read-only
(define-read-only (has-role (who principal) (role (string-ascii 24)))
  (default-to false (map-get? roles { who: who, role: role })))

(define-read-only (get-param (key (string-ascii 40)))
  (get value (unwrap-panic (map-get? params key))))

(define-read-only (get-param-entry (key (string-ascii 40)))
  (map-get? params key))

(define-read-only (get-tier (kind (string-ascii 8)) (name (string-ascii 16)))
  (map-get? tiers { kind: kind, name: name }))

;; One cross-contract call instead of a dozen keeps create-policy cheap.
(define-read-only (get-policy-config)
  {
    max-price-age-blocks: (get-param "policy.max-price-age-blocks"),
    min-duration-blocks: (get-param "policy.min-duration-blocks"),
    max-duration-blocks: (get-param "policy.max-duration-blocks"),
    min-amount-sats: (get-param "policy.min-amount-sats"),
    max-amount-sats: (get-param "policy.max-amount-sats"),
    min-strike-bp: (get-param "policy.min-strike-bp"),
    max-strike-bp: (get-param "policy.max-strike-bp"),
    max-active-per-owner: (get-param "policy.max-active-per-owner"),
    premium-min-bp: (get-param "premium.min-bp"),
    premium-max-bp: (get-param "premium.max-bp"),
    price-delay-blocks: (get-param "settle.max-price-delay-blocks"),
    void-grace-blocks: (get-param "settle.void-grace-blocks"),
    quote-max-life-blocks: (get-param "quote.max-life-blocks"),
    quote-max-slippage-bp: (get-param "quote.max-slippage-bp"),
    stress-stx-bp: (get-param "stress.stx-price-bp"),
    stress-sbtc-bp: (get-param "stress.sbtc-price-bp"),
    fee-bp: (get-param "fee.protocol-bp"),
    fund-bp: (get-param "fund.premium-bp"),
  })

(define-read-only (get-gov-config)
  {
    voting-delay-blocks: (get-param "gov.voting-delay-blocks"),
    voting-period-blocks: (get-param "gov.voting-period-blocks"),
    timelock-blocks: (get-param "gov.timelock-blocks"),
    execution-grace-blocks: (get-param "gov.execution-grace-blocks"),
    quorum-bp: (get-param "gov.quorum-bp"),
    threshold-bp: (get-param "gov.threshold-bp"),
    proposal-min-power: (get-param "gov.proposal-min-power"),
    proposal-min-shares: (get-param "gov.proposal-min-shares"),
  })

(define-read-only (is-paused (action (string-ascii 16)))
  (default-to false (map-get? paused action)))

(define-read-only (is-valid-action (action (string-ascii 16)))
  (or (is-eq action "create-policy") (is-eq action "deposit") (is-eq action "proposals")))

(define-read-only (is-valid-role (role (string-ascii 24)))
  (or (is-eq role ROLE-ADMIN) (is-eq role ROLE-GUARDIAN) (is-eq role "oracle-submitter")
      (is-eq role "quote-signer") (is-eq role ROLE-GOV)))

(define-read-only (is-valid-tier-field (field (string-ascii 24)))
  (or (is-eq field "collateral-ratio-bp") (is-eq field "premium-adjustment-bp")
      (is-eq field "max-utilization-bp") (is-eq field "max-exposure-policy-bp")
      (is-eq field "max-exposure-expiry-bp") (is-eq field "active")))

;; Checked by governance at proposal time so that a proposal that could never execute is refused.
;; Besides its own bounds a value must keep its pair consistent with the partner's current value.
(define-read-only (check-param (key (string-ascii 40)) (value uint))
  (let ((entry (unwrap! (map-get? params key) ERR-UNKNOWN-PARAM)))
    (asserts! (and (>= value (get min entry)) (<= value (get max entry))) ERR-OUT-OF-BOUNDS)
    (asserts! (pairs-hold key value) ERR-OUT-OF-BOUNDS)
    (ok true)))

(define-read-only (check-tier-field (kind (string-ascii 8)) (name (string-ascii 16))
                                    (field (string-ascii 24)) (value uint))
  (begin
    (asserts! (is-some (map-get? tiers { kind: kind, name: name })) ERR-UNKNOWN-TIER)
    (asserts! (is-valid-tier-field field) ERR-UNKNOWN-FIELD)
    (asserts! (field-in-bounds field value) ERR-OUT-OF-BOUNDS)
    (ok true)))

;; ---------------------------------------------------------------- private
(define-private (is-admin (who principal)) (has-role who ROLE-ADMIN))

;; min <= max for every (min-key, max-key) pair; fee + fund share <= 30 % (the pool keeps >= 70 % of a premium).
(define-private (le-pair (key (string-ascii 40)) (value uint) (lo (string-ascii 40)) (hi (string-ascii 40)))
  (if (is-eq key lo) (<= value (get-param hi)) (if (is-eq key hi) (>= value (get-param lo)) true)))

(define-private (pairs-hold (key (string-ascii 40)) (value uint))
  (and (le-pair key value "policy.min-duration-blocks" "policy.max-duration-blocks")
       (le-pair key value "policy.min-amount-sats" "policy.max-amount-sats")
       (le-pair key value "premium.min-bp" "premium.max-bp")
       (le-pair key value "oracle.max-deviation-bp" "oracle.max-gap-deviation-bp")
       (if (is-eq key "fee.protocol-bp") (<= (+ value (get-param "fund.premium-bp")) u3000)
         (if (is-eq key "fund.premium-bp") (<= (+ value (get-param "fee.protocol-bp")) u3000) true))))

(define-private (can-change (who principal))
  (or (has-role who ROLE-ADMIN) (has-role who ROLE-GOV)))

;; Collateral below 100% would make policies under-covered at the creation price.
(define-private (field-in-bounds (field (string-ascii 24)) (value uint))
  (if (is-eq field "collateral-ratio-bp")
    (and (>= value u10000) (<= value u50000))
    (if (is-eq field "premium-adjustment-bp")
      (and (>= value u1000) (<= value u50000))
      (if (is-eq field "active")
        (<= value u1)
        (<= value u10000)))))

(define-private (print-tier (kind (string-ascii 8)) (name (string-ascii 16)) (field (string-ascii 24)))
  (let ((t (unwrap-panic (map-get? tiers { kind: kind, name: name }))))
    (print {
      event: "tier-updated", tier-kind: kind, tier: name, field: field,
      collateral-ratio-bp: (get collateral-ratio-bp t), premium-adjustment-bp: (get premium-adjustment-bp t),
      max-utilization-bp: (get max-utilization-bp t), max-exposure-policy-bp: (get max-exposure-policy-bp t),
      max-exposure-expiry-bp: (get max-exposure-expiry-bp t), active: (get active t),
      sender: contract-caller, burn-height: burn-block-height, stacks-height: stacks-block-height,
    })))

;; ---------------------------------------------------------------- public
(define-public (grant-role (who principal) (role (string-ascii 24)))
  (begin
    (asserts! (is-admin contract-caller) ERR-NOT-AUTHORIZED)
    (asserts! (is-valid-role role) ERR-INVALID-ROLE)
    (map-set roles { who: who, role: role } true)
    (print { event: "role-granted", who: who, role: role, sender: contract-caller,
             burn-height: burn-block-height, stacks-height: stacks-block-height })
    (ok true)))

(define-public (revoke-role (who principal) (role (string-ascii 24)))
  (begin
    (asserts! (is-admin contract-caller) ERR-NOT-AUTHORIZED)
    (asserts! (is-valid-role role) ERR-INVALID-ROLE)
    ;; An admin removing its own admin role could leave the protocol without any admin.
    (asserts! (not (and (is-eq who contract-caller) (is-eq role ROLE-ADMIN))) ERR-SELF-REVOKE)
    (map-delete roles { who: who, role: role })
    (print { event: "role-revoked", who: who, role: role, sender: contract-caller,
             burn-height: burn-block-height, stacks-height: stacks-block-height })
    (ok true)))

(define-public (set-param (key (string-ascii 40)) (value uint))
  (let ((entry (unwrap! (map-get? params key) ERR-UNKNOWN-PARAM)))
    (asserts! (can-change contract-caller) ERR-NOT-AUTHORIZED)
    (try! (check-param key value))
    (map-set params key (merge entry { value: value }))
    (print { event: "param-updated", key: key, old-value: (get value entry), value: value,
             sender: contract-caller, burn-height: burn-block-height, stacks-height: stacks-block-height })
    (ok true)))

;; Creates or replaces a whole tier (admin or governance executor).
(define-public (set-tier (kind (string-ascii 8)) (name (string-ascii 16))
                         (collateral-ratio-bp uint) (premium-adjustment-bp uint) (max-utilization-bp uint)
                         (max-exposure-policy-bp uint) (max-exposure-expiry-bp uint) (active bool))
  (begin
    (asserts! (can-change contract-caller) ERR-NOT-AUTHORIZED)
    (asserts! (or (is-eq kind "buyer") (is-eq kind "provider")) ERR-INVALID-TIER-KIND)
    (asserts! (and (field-in-bounds "collateral-ratio-bp" collateral-ratio-bp)
                   (field-in-bounds "premium-adjustment-bp" premium-adjustment-bp)
                   (field-in-bounds "max-utilization-bp" max-utilization-bp)
                   (field-in-bounds "max-exposure-policy-bp" max-exposure-policy-bp)
                   (field-in-bounds "max-exposure-expiry-bp" max-exposure-expiry-bp)) ERR-OUT-OF-BOUNDS)
    (map-set tiers { kind: kind, name: name }
      { collateral-ratio-bp: collateral-ratio-bp, premium-adjustment-bp: premium-adjustment-bp,
        max-utilization-bp: max-utilization-bp, max-exposure-policy-bp: max-exposure-policy-bp,
        max-exposure-expiry-bp: max-exposure-expiry-bp, active: active })
    (print-tier kind name "all")
    (ok true)))

;; Admin and governance may pause or unpause; a guardian may only pause.
(define-public (set-paused (action (string-ascii 16)) (pause bool))
  (let ((previous (is-paused action)))
    (asserts! (or (can-change contract-caller) (and pause (has-role contract-caller ROLE-GUARDIAN))) ERR-NOT-AUTHORIZED)
    (asserts! (is-valid-action action) ERR-UNKNOWN-ACTION)
    (map-set paused action pause)
    (print { event: "pause-set", action: action, paused: pause, previous: previous, sender: contract-caller,
             burn-height: burn-block-height, stacks-height: stacks-block-height })
    (ok true)))

;; Changes one field of an existing tier; `active` takes 0 or 1. This is what governance uses.
(define-public (set-tier-field (kind (string-ascii 8)) (name (string-ascii 16)) (field (string-ascii 24)) (value uint))
  (let ((t (unwrap! (map-get? tiers { kind: kind, name: name }) ERR-UNKNOWN-TIER)))
    (asserts! (can-change contract-caller) ERR-NOT-AUTHORIZED)
    (try! (check-tier-field kind name field value))
    (map-set tiers { kind: kind, name: name }
      (if (is-eq field "collateral-ratio-bp") (merge t { collateral-ratio-bp: value })
      (if (is-eq field "premium-adjustment-bp") (merge t { premium-adjustment-bp: value })
      (if (is-eq field "max-utilization-bp") (merge t { max-utilization-bp: value })
      (if (is-eq field "max-exposure-policy-bp") (merge t { max-exposure-policy-bp: value })
      (if (is-eq field "max-exposure-expiry-bp") (merge t { max-exposure-expiry-bp: value })
        (merge t { active: (is-eq value u1) })))))))
    (print-tier kind name field)
    (ok true)))
