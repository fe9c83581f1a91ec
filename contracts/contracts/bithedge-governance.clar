;; bithedge-governance: provider governance of parameters, tiers, pause flags and treasury disbursements.
;; Voting power is the value of a provider's positions in the STX pools, in micro-STX (the vault's
;; get-position-value), read with at-block at the proposal's snapshot block. Value, not share counts:
;; shares of pools with different share prices are not comparable, and a wiped pool's shares are
;; worth (and vote) nothing however many there are (audit H-2).
;; The snapshot is `gov.voting-delay-blocks` Stacks blocks after the proposal and voting opens only
;; then, so power cannot be borrowed for the few blocks around a proposal: whoever wants to vote
;; must hold the position through a block everyone saw coming (audit M-4).
;; Each principal votes once per proposal and positions are not transferable, so power cannot be
;; counted twice. Quorum, threshold, timelock and grace are parameters copied into the proposal when
;; it is created so that a later parameter change cannot alter the rules of a running vote.
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
(define-constant ERR-VOTING-NOT-OPEN (err u511))
(define-constant ERR-EXPIRED (err u512))
(define-constant ERR-SUPERSEDED (err u513))
(define-constant ERR-PROPOSALS-PAUSED (err u514))
;; Codes of the contract that would refuse the change, returned up front at proposal time.
(define-constant ERR-UNKNOWN-ACTION (err u108))   ;; bithedge-parameters.set-paused
(define-constant ERR-UNKNOWN-TOKEN (err u602))    ;; bithedge-treasury.disburse
(define-constant ERR-ZERO-AMOUNT (err u603))      ;; bithedge-treasury.disburse

(define-constant BP u10000)
;; The STX pools whose positions vote: the provider tiers seeded by bithedge-parameters.
(define-constant VOTING-TIERS (list "conservative" "balanced" "aggressive"))

(define-data-var last-proposal-id uint u0)

(define-map proposals uint {
  proposer: principal, kind: (string-ascii 8), key: (string-ascii 40), tier-kind: (string-ascii 8),
  tier: (string-ascii 16), value: uint, snapshot-height: uint, start-burn-height: uint,
  end-burn-height: uint, eta-burn-height: uint, expires-burn-height: uint, quorum-bp: uint,
  threshold-bp: uint, total-power: uint, yes: uint, no: uint, status: (string-ascii 10),
  recipient: (optional principal),
})
(define-map votes { proposal-id: uint, voter: principal } { support: bool, power: uint })
;; Last executed proposal per target, so that an older passed proposal cannot revert a newer decision.
(define-map last-executed { kind: (string-ascii 8), key: (string-ascii 40), tier-kind: (string-ascii 8),
                            tier: (string-ascii 16) } uint)

;; ---------------------------------------------------------------- power
(define-private (add-position-value (tier (string-ascii 16)) (acc { who: principal, power: uint }))
  (merge acc { power: (+ (get power acc) (contract-call? .bithedge-vault get-position-value "STX" tier (get who acc))) }))

(define-private (add-pool-assets (tier (string-ascii 16)) (total uint))
  (match (contract-call? .bithedge-vault get-pool "STX" tier) p (+ total (get assets p)) total))

(define-read-only (power-at (who principal) (height uint))
  (match (get-stacks-block-info? id-header-hash height)
    id (ok (at-block id (get power (fold add-position-value VOTING-TIERS { who: who, power: u0 }))))
    ERR-NO-SNAPSHOT))

;; The quorum denominator: the assets of every voting pool, which bound the sum of all positions'
;; values, so worthless shares add nothing to it.
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

;; Disbursements are grants, not settings: a newer one never makes an older one stale.
(define-private (is-superseded (proposal-id uint) (target { kind: (string-ascii 8), key: (string-ascii 40),
                                                             tier-kind: (string-ascii 8), tier: (string-ascii 16) }))
  (and (not (is-eq (get kind target) "disburse"))
       (> (default-to u0 (map-get? last-executed target)) proposal-id)))

(define-private (target-of (p { proposer: principal, kind: (string-ascii 8), key: (string-ascii 40),
    tier-kind: (string-ascii 8), tier: (string-ascii 16), value: uint, snapshot-height: uint,
    start-burn-height: uint, end-burn-height: uint, eta-burn-height: uint, expires-burn-height: uint,
    quorum-bp: uint, threshold-bp: uint, total-power: uint, yes: uint, no: uint, status: (string-ascii 10),
    recipient: (optional principal) }))
  { kind: (get kind p), key: (get key p), tier-kind: (get tier-kind p), tier: (get tier p) })

;; "pending" (voting opens after the snapshot block), "active" (voting), "defeated", "queued" (passed,
;; in timelock), "executable", "expired" (passed, grace over), "superseded" (passed, but a newer
;; proposal for the same target was executed), "executed", "cancelled".
(define-read-only (get-proposal-state (proposal-id uint))
  (match (map-get? proposals proposal-id)
    p (some
        (if (not (is-eq (get status p) "active")) (get status p)
        (if (<= burn-block-height (get end-burn-height p))
          (if (> stacks-block-height (get snapshot-height p)) "active" "pending")
        (if (not (is-passed proposal-id)) "defeated"
        (if (is-superseded proposal-id (target-of p)) "superseded"
        (if (< burn-block-height (get eta-burn-height p)) "queued"
        (if (< burn-block-height (get expires-burn-height p)) "executable" "expired")))))))
    none))

;; ---------------------------------------------------------------- private
(define-private (create (kind (string-ascii 8)) (key (string-ascii 40)) (tier-kind (string-ascii 8))
                        (tier (string-ascii 16)) (value uint) (recipient (optional principal)))
  (let (
      (proposer contract-caller)
      (cfg (contract-call? .bithedge-parameters get-gov-config))
      (power (try! (power-at proposer (- stacks-block-height u1))))
      (snapshot (+ stacks-block-height (get voting-delay-blocks cfg)))
      (proposal-id (+ (var-get last-proposal-id) u1))
      (start burn-block-height)
      (end (+ burn-block-height (get voting-period-blocks cfg)))
      (eta (+ end (get timelock-blocks cfg) u1))
      (expires (+ eta (get execution-grace-blocks cfg)))
    )
    (asserts! (not (contract-call? .bithedge-parameters is-paused "proposals")) ERR-PROPOSALS-PAUSED)
    (asserts! (>= power (get proposal-min-power cfg)) ERR-BELOW-PROPOSAL-THRESHOLD)
    (var-set last-proposal-id proposal-id)
    (map-set proposals proposal-id {
      proposer: proposer, kind: kind, key: key, tier-kind: tier-kind, tier: tier, value: value,
      snapshot-height: snapshot, start-burn-height: start, end-burn-height: end, eta-burn-height: eta,
      expires-burn-height: expires, quorum-bp: (get quorum-bp cfg), threshold-bp: (get threshold-bp cfg),
      total-power: u0, yes: u0, no: u0, status: "active", recipient: recipient })
    (print {
      event: "proposal-created", proposal-id: proposal-id, proposer: proposer, kind: kind, key: key,
      tier-kind: tier-kind, tier: tier, value: value, recipient: recipient, proposer-power: power,
      snapshot-height: snapshot, start-burn-height: start, end-burn-height: end, eta-burn-height: eta,
      expires-burn-height: expires, quorum-bp: (get quorum-bp cfg), threshold-bp: (get threshold-bp cfg),
      burn-height: burn-block-height, stacks-height: stacks-block-height })
    (ok proposal-id)))

(define-private (apply-change (p { kind: (string-ascii 8), key: (string-ascii 40), tier-kind: (string-ascii 8),
                                   tier: (string-ascii 16), value: uint, recipient: (optional principal) }))
  (if (is-eq (get kind p) "param")
    (contract-call? .bithedge-parameters set-param (get key p) (get value p))
  (if (is-eq (get kind p) "tier")
    (contract-call? .bithedge-parameters set-tier-field (get tier-kind p) (get tier p)
                    (unwrap-panic (as-max-len? (get key p) u24)) (get value p))
  (if (is-eq (get kind p) "pause")
    (contract-call? .bithedge-parameters set-paused (unwrap-panic (as-max-len? (get key p) u16))
                    (is-eq (get value p) u1))
    (match (contract-call? .bithedge-treasury disburse (unwrap-panic (as-max-len? (get key p) u8)) (get value p)
                           (unwrap-panic (get recipient p)))
      paid (ok true)
      code (err code))))))

;; ---------------------------------------------------------------- public
(define-public (propose-param (key (string-ascii 40)) (value uint))
  (begin
    (try! (contract-call? .bithedge-parameters check-param key value))
    (create "param" key "" "" value none)))

(define-public (propose-tier-field (tier-kind (string-ascii 8)) (tier (string-ascii 16))
                                   (field (string-ascii 24)) (value uint))
  (begin
    (try! (contract-call? .bithedge-parameters check-tier-field tier-kind tier field value))
    (create "tier" field tier-kind tier value none)))

;; Pausing or unpausing an action (`value` 1 = pause); a guardian can pause at once, but only the
;; admin or a governance vote can unpause.
(define-public (propose-pause (action (string-ascii 16)) (paused bool))
  (begin
    (asserts! (contract-call? .bithedge-parameters is-valid-action action) ERR-UNKNOWN-ACTION)
    (create "pause" action "" "" (if paused u1 u0) none)))

;; Paying `amount` of the treasury's `token` to `recipient`; the balance is checked at execution.
(define-public (propose-disburse (token (string-ascii 8)) (amount uint) (recipient principal))
  (begin
    (asserts! (contract-call? .bithedge-vault is-supported-token token) ERR-UNKNOWN-TOKEN)
    (asserts! (> amount u0) ERR-ZERO-AMOUNT)
    (create "disburse" token "" "" amount (some recipient))))

(define-public (vote (proposal-id uint) (support bool))
  (let (
      (voter contract-caller)
      (p (unwrap! (map-get? proposals proposal-id) ERR-UNKNOWN-PROPOSAL))
    )
    (asserts! (is-eq (get status p) "active") ERR-NOT-ACTIVE)
    (asserts! (> stacks-block-height (get snapshot-height p)) ERR-VOTING-NOT-OPEN)
    (asserts! (<= burn-block-height (get end-burn-height p)) ERR-VOTING-CLOSED)
    (let (
        (power (try! (power-at voter (get snapshot-height p))))
        (total (try! (total-power-at (get snapshot-height p))))
        (yes (if support (+ (get yes p) power) (get yes p)))
        (no (if support (get no p) (+ (get no p) power)))
      )
      (asserts! (> power u0) ERR-NO-POWER)
      (asserts! (map-insert votes { proposal-id: proposal-id, voter: voter } { support: support, power: power })
                ERR-ALREADY-VOTED)
      (map-set proposals proposal-id (merge p { yes: yes, no: no, total-power: total }))
      (print { event: "vote-cast", proposal-id: proposal-id, voter: voter, support: support, power: power,
               yes: yes, no: no, total-power: total,
               burn-height: burn-block-height, stacks-height: stacks-block-height })
      (ok power))))

;; Anyone may execute a passed proposal between its eta and its expiry (audit L-4), unless a newer
;; proposal for the same parameter, tier field or pause flag has been executed meanwhile.
(define-public (execute (proposal-id uint))
  (let (
      (p (unwrap! (map-get? proposals proposal-id) ERR-UNKNOWN-PROPOSAL))
      (target (target-of p))
    )
    (asserts! (is-eq (get status p) "active") ERR-NOT-ACTIVE)
    (asserts! (> burn-block-height (get end-burn-height p)) ERR-VOTING-OPEN)
    (asserts! (is-passed proposal-id) ERR-NOT-PASSED)
    (asserts! (>= burn-block-height (get eta-burn-height p)) ERR-TIMELOCK)
    (asserts! (not (is-superseded proposal-id target)) ERR-SUPERSEDED)
    (asserts! (< burn-block-height (get expires-burn-height p)) ERR-EXPIRED)
    (try! (apply-change (merge target { value: (get value p), recipient: (get recipient p) })))
    (map-set proposals proposal-id (merge p { status: "executed" }))
    (map-set last-executed target proposal-id)
    (print { event: "proposal-executed", proposal-id: proposal-id, kind: (get kind p), key: (get key p),
             tier-kind: (get tier-kind p), tier: (get tier p), value: (get value p), recipient: (get recipient p),
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
