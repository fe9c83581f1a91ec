;; bithedge-governance: provider governance of parameters and tiers.
;; Voting power is the value of a provider's positions in the STX pools, in micro-STX:
;; shares x pool assets / pool shares per pool, read with at-block at the proposal's snapshot block.
;; Value, not share counts: shares of pools with different share prices are not comparable, and a
;; wiped pool's shares are worth (and vote) nothing however many there are (audit H-2).
;; Each principal votes once per proposal and positions are not transferable, so power cannot be
;; counted twice. Quorum, threshold and timelock are parameters copied into the proposal when it is
;; created so that a later parameter change cannot alter the rules of a running vote.
;; Proposer, voter and canceller are contract-caller: a contract the user calls cannot act with the
;; user's power (audit L-5). Execution applies the change through bithedge-parameters, where this
;; contract holds the `governance-executor` role.

(define-constant ERR-NOT-AUTHORIZED (err u500))
(define-constant ERR-UNKNOWN-PROPOSAL (err u501))
(define-constant ERR-VOTING-CLOSED (err u502))
(define-constant ERR-ALREADY-VOTED (err u503))
(define-constant ERR-NO-POWER (err u504))
(define-constant ERR-NOT-PASSED (err u505))
(define-constant ERR-TIMELOCK (err u506))
(define-constant ERR-NOT-ACTIVE (err u507))
(define-constant ERR-VOTING-OPEN (err u508))
(define-constant ERR-BELOW-PROPOSAL-THRESHOLD (err u509))
(define-constant ERR-NO-SNAPSHOT (err u510))
(define-constant ERR-SUPERSEDED (err u513))

(define-constant BP u10000)
;; Pool assets are micro-STX, below 2^64 (all STX ever is ~1.8e15 micro-STX); see `position-value`.
(define-constant TWO64 u18446744073709551616)
;; The STX pools whose positions vote: the provider tiers seeded by bithedge-parameters.
(define-constant VOTING-TIERS (list "conservative" "balanced" "aggressive"))

(define-data-var last-proposal-id uint u0)

(define-map proposals uint {
  proposer: principal, kind: (string-ascii 8), key: (string-ascii 40), tier-kind: (string-ascii 8),
  tier: (string-ascii 16), value: uint, snapshot-height: uint, start-burn-height: uint,
  end-burn-height: uint, eta-burn-height: uint, quorum-bp: uint, threshold-bp: uint,
  total-power: uint, yes: uint, no: uint, status: (string-ascii 10),
})
(define-map votes { proposal-id: uint, voter: principal } { support: bool, power: uint })
;; Last executed proposal per target, so that an older passed proposal cannot revert a newer decision.
(define-map last-executed { kind: (string-ascii 8), key: (string-ascii 40), tier-kind: (string-ascii 8),
                            tier: (string-ascii 16) } uint)

;; ---------------------------------------------------------------- power
;; floor(part * assets / whole) for part <= whole and assets < 2^64 without u128 overflow, however
;; far share counts have grown after a wipe (audit L-6): part and whole are scaled down together
;; until whole < 2^64, whole rounded up, so the result never exceeds the exact value.
(define-read-only (position-value (part uint) (assets uint) (whole uint))
  (if (is-eq whole u0)
    u0
    (let ((k (+ (/ whole TWO64) u1)))
      (/ (* (/ part k) assets) (+ (/ (- whole u1) k) u1)))))

(define-private (add-position-value (tier (string-ascii 16)) (acc { who: principal, power: uint }))
  (match (contract-call? .bithedge-vault get-pool "STX" tier)
    p (merge acc { power: (+ (get power acc)
                             (position-value (contract-call? .bithedge-vault get-shares "STX" tier (get who acc))
                                       (get assets p) (get shares p))) })
    acc))

(define-private (add-pool-assets (tier (string-ascii 16)) (total uint))
  (match (contract-call? .bithedge-vault get-pool "STX" tier) p (+ total (get assets p)) total))

(define-read-only (power-at (who principal) (height uint))
  (match (get-stacks-block-info? id-header-hash height)
    id (ok (at-block id (get power (fold add-position-value VOTING-TIERS { who: who, power: u0 }))))
    ERR-NO-SNAPSHOT))

;; The quorum denominator: the value of every voting pool, so worthless shares add nothing to it.
(define-read-only (total-power-at (height uint))
  (match (get-stacks-block-info? id-header-hash height)
    id (ok (at-block id (fold add-pool-assets VOTING-TIERS u0)))
    ERR-NO-SNAPSHOT))

;; ---------------------------------------------------------------- read-only
(define-read-only (get-proposal (proposal-id uint)) (map-get? proposals proposal-id))
(define-read-only (get-last-proposal-id) (var-get last-proposal-id))
(define-read-only (get-vote (proposal-id uint) (voter principal))
  (map-get? votes { proposal-id: proposal-id, voter: voter }))
(define-read-only (get-voting-tiers) VOTING-TIERS)

(define-read-only (get-last-executed (kind (string-ascii 8)) (key (string-ascii 40))
                                     (tier-kind (string-ascii 8)) (tier (string-ascii 16)))
  (map-get? last-executed { kind: kind, key: key, tier-kind: tier-kind, tier: tier }))

;; total-power is read at the first vote; with no vote cast it is 0 and the proposal cannot pass.
(define-read-only (is-passed (proposal-id uint))
  (match (map-get? proposals proposal-id)
    p (let ((cast (+ (get yes p) (get no p))))
        (and (> (get total-power p) u0)
             (>= (* cast BP) (* (get total-power p) (get quorum-bp p)))
             (> (* (get yes p) BP) (* cast (get threshold-bp p)))))
    false))

(define-private (is-superseded (proposal-id uint) (p { kind: (string-ascii 8), key: (string-ascii 40),
                                                        tier-kind: (string-ascii 8), tier: (string-ascii 16) }))
  (> (default-to u0 (get-last-executed (get kind p) (get key p) (get tier-kind p) (get tier p))) proposal-id))

;; "active" (voting), "defeated", "queued" (passed, in timelock), "executable", "superseded" (passed,
;; but a newer proposal for the same target was executed), "executed", "cancelled".
(define-read-only (get-proposal-state (proposal-id uint))
  (match (map-get? proposals proposal-id)
    p (if (not (is-eq (get status p) "active"))
        (some (get status p))
        (if (<= burn-block-height (get end-burn-height p))
          (some "active")
          (if (not (is-passed proposal-id))
            (some "defeated")
            (if (is-superseded proposal-id { kind: (get kind p), key: (get key p), tier-kind: (get tier-kind p), tier: (get tier p) })
              (some "superseded")
              (if (< burn-block-height (get eta-burn-height p)) (some "queued") (some "executable"))))))
    none))

;; ---------------------------------------------------------------- private
(define-private (create (kind (string-ascii 8)) (key (string-ascii 40)) (tier-kind (string-ascii 8))
                        (tier (string-ascii 16)) (value uint))
  (let (
      (proposer contract-caller)
      (cfg (contract-call? .bithedge-parameters get-gov-config))
      (snapshot (- stacks-block-height u1))
      (power (try! (power-at proposer (- stacks-block-height u1))))
      (proposal-id (+ (var-get last-proposal-id) u1))
      (start burn-block-height)
      (end (+ burn-block-height (get voting-period-blocks cfg)))
      (eta (+ end (get timelock-blocks cfg) u1))
    )
    (asserts! (>= power (get proposal-min-shares cfg)) ERR-BELOW-PROPOSAL-THRESHOLD)
    (var-set last-proposal-id proposal-id)
    (map-set proposals proposal-id {
      proposer: proposer, kind: kind, key: key, tier-kind: tier-kind, tier: tier, value: value,
      snapshot-height: snapshot, start-burn-height: start, end-burn-height: end, eta-burn-height: eta,
      quorum-bp: (get quorum-bp cfg), threshold-bp: (get threshold-bp cfg), total-power: u0,
      yes: u0, no: u0, status: "active" })
    (print {
      event: "proposal-created", proposal-id: proposal-id, proposer: proposer, kind: kind, key: key,
      tier-kind: tier-kind, tier: tier, value: value, proposer-power: power,
      snapshot-height: snapshot, start-burn-height: start, end-burn-height: end, eta-burn-height: eta,
      quorum-bp: (get quorum-bp cfg), threshold-bp: (get threshold-bp cfg),
      burn-height: burn-block-height, stacks-height: stacks-block-height })
    (ok proposal-id)))

;; ---------------------------------------------------------------- public
(define-public (propose-param (key (string-ascii 40)) (value uint))
  (begin
    (try! (contract-call? .bithedge-parameters check-param key value))
    (create "param" key "" "" value)))

(define-public (propose-tier-field (tier-kind (string-ascii 8)) (tier (string-ascii 16))
                                   (field (string-ascii 24)) (value uint))
  (begin
    (try! (contract-call? .bithedge-parameters check-tier-field tier-kind tier field value))
    (create "tier" field tier-kind tier value)))

(define-public (vote (proposal-id uint) (support bool))
  (let (
      (voter contract-caller)
      (p (unwrap! (map-get? proposals proposal-id) ERR-UNKNOWN-PROPOSAL))
      (power (try! (power-at voter (get snapshot-height p))))
      (total (try! (total-power-at (get snapshot-height p))))
      (yes (if support (+ (get yes p) power) (get yes p)))
      (no (if support (get no p) (+ (get no p) power)))
    )
    (asserts! (is-eq (get status p) "active") ERR-NOT-ACTIVE)
    (asserts! (<= burn-block-height (get end-burn-height p)) ERR-VOTING-CLOSED)
    (asserts! (> power u0) ERR-NO-POWER)
    (asserts! (map-insert votes { proposal-id: proposal-id, voter: voter } { support: support, power: power })
              ERR-ALREADY-VOTED)
    (map-set proposals proposal-id (merge p { yes: yes, no: no, total-power: total }))
    (print { event: "vote-cast", proposal-id: proposal-id, voter: voter, support: support, power: power,
             yes: yes, no: no, total-power: total,
             burn-height: burn-block-height, stacks-height: stacks-block-height })
    (ok power)))

;; Anyone may execute a passed proposal once its timelock has elapsed, unless a newer proposal for
;; the same parameter or tier field has been executed meanwhile (audit L-4).
(define-public (execute (proposal-id uint))
  (let (
      (p (unwrap! (map-get? proposals proposal-id) ERR-UNKNOWN-PROPOSAL))
      (target { kind: (get kind p), key: (get key p), tier-kind: (get tier-kind p), tier: (get tier p) })
    )
    (asserts! (is-eq (get status p) "active") ERR-NOT-ACTIVE)
    (asserts! (> burn-block-height (get end-burn-height p)) ERR-VOTING-OPEN)
    (asserts! (is-passed proposal-id) ERR-NOT-PASSED)
    (asserts! (>= burn-block-height (get eta-burn-height p)) ERR-TIMELOCK)
    (asserts! (not (is-superseded proposal-id target)) ERR-SUPERSEDED)
    (try! (if (is-eq (get kind p) "param")
            (contract-call? .bithedge-parameters set-param (get key p) (get value p))
            (contract-call? .bithedge-parameters set-tier-field (get tier-kind p) (get tier p)
                            (unwrap-panic (as-max-len? (get key p) u24)) (get value p))))
    (map-set proposals proposal-id (merge p { status: "executed" }))
    (map-set last-executed target proposal-id)
    (print { event: "proposal-executed", proposal-id: proposal-id, kind: (get kind p), key: (get key p),
             tier-kind: (get tier-kind p), tier: (get tier p), value: (get value p),
             yes: (get yes p), no: (get no p), total-power: (get total-power p), executor: contract-caller,
             burn-height: burn-block-height, stacks-height: stacks-block-height })
    (ok true)))

;; The proposer or an admin may cancel any proposal that has not been executed.
(define-public (cancel (proposal-id uint))
  (let ((p (unwrap! (map-get? proposals proposal-id) ERR-UNKNOWN-PROPOSAL)))
    (asserts! (or (is-eq contract-caller (get proposer p))
                  (contract-call? .bithedge-parameters has-role contract-caller "admin")) ERR-NOT-AUTHORIZED)
    (asserts! (is-eq (get status p) "active") ERR-NOT-ACTIVE)
    (map-set proposals proposal-id (merge p { status: "cancelled" }))
    (print { event: "proposal-cancelled", proposal-id: proposal-id, sender: contract-caller,
             yes: (get yes p), no: (get no p),
             burn-height: burn-block-height, stacks-height: stacks-block-height })
    (ok true)))
