;; bithedge-governance: provider governance of parameters and tiers.
;; Voting power is a provider's STX-pool shares in the vault read with at-block at the proposal's
;; snapshot block (the Stacks block before the proposal), so shares moved or minted afterwards
;; cannot vote, and each principal votes once per proposal: power cannot be counted twice.
;; Quorum, threshold and timelock are parameters, copied into the proposal when it is created so
;; that a later parameter change cannot alter the rules of a running vote.
;; Execution applies the change through bithedge-parameters, where this contract holds the
;; `governance-executor` role.

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

(define-constant BP u10000)

(define-data-var last-proposal-id uint u0)

(define-map proposals uint {
  proposer: principal, kind: (string-ascii 8), key: (string-ascii 40), tier-kind: (string-ascii 8),
  tier: (string-ascii 16), value: uint, snapshot-height: uint, start-burn-height: uint,
  end-burn-height: uint, eta-burn-height: uint, quorum-bp: uint, threshold-bp: uint,
  total-power: uint, yes: uint, no: uint, status: (string-ascii 10),
})
(define-map votes { proposal-id: uint, voter: principal } { support: bool, power: uint })

;; ---------------------------------------------------------------- read-only
(define-read-only (get-proposal (proposal-id uint)) (map-get? proposals proposal-id))
(define-read-only (get-last-proposal-id) (var-get last-proposal-id))
(define-read-only (get-vote (proposal-id uint) (voter principal))
  (map-get? votes { proposal-id: proposal-id, voter: voter }))

(define-read-only (power-at (who principal) (height uint))
  (match (get-stacks-block-info? id-header-hash height)
    id (ok (at-block id (contract-call? .bithedge-vault get-voting-power who)))
    ERR-NO-SNAPSHOT))

(define-read-only (total-power-at (height uint))
  (match (get-stacks-block-info? id-header-hash height)
    id (ok (at-block id (contract-call? .bithedge-vault get-total-voting-power)))
    ERR-NO-SNAPSHOT))

(define-read-only (is-passed (proposal-id uint))
  (match (map-get? proposals proposal-id)
    p (let ((cast (+ (get yes p) (get no p))))
        (and (> (get total-power p) u0)
             (>= (* cast BP) (* (get total-power p) (get quorum-bp p)))
             (> (* (get yes p) BP) (* cast (get threshold-bp p)))))
    false))

;; "active" (voting), "defeated", "queued" (passed, in timelock), "executable", "executed", "cancelled".
(define-read-only (get-proposal-state (proposal-id uint))
  (match (map-get? proposals proposal-id)
    p (if (not (is-eq (get status p) "active"))
        (some (get status p))
        (if (<= burn-block-height (get end-burn-height p))
          (some "active")
          (if (not (is-passed proposal-id))
            (some "defeated")
            (if (< burn-block-height (get eta-burn-height p)) (some "queued") (some "executable")))))
    none))

;; ---------------------------------------------------------------- private
(define-private (create (kind (string-ascii 8)) (key (string-ascii 40)) (tier-kind (string-ascii 8))
                        (tier (string-ascii 16)) (value uint))
  (let (
      (proposer tx-sender)
      (cfg (contract-call? .bithedge-parameters get-gov-config))
      (snapshot (- stacks-block-height u1))
      (power (try! (power-at proposer snapshot)))
      (total (try! (total-power-at snapshot)))
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
      quorum-bp: (get quorum-bp cfg), threshold-bp: (get threshold-bp cfg), total-power: total,
      yes: u0, no: u0, status: "active" })
    (print {
      event: "proposal-created", proposal-id: proposal-id, proposer: proposer, kind: kind, key: key,
      tier-kind: tier-kind, tier: tier, value: value, proposer-power: power, total-power: total,
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
      (voter tx-sender)
      (p (unwrap! (map-get? proposals proposal-id) ERR-UNKNOWN-PROPOSAL))
      (power (try! (power-at voter (get snapshot-height p))))
      (yes (if support (+ (get yes p) power) (get yes p)))
      (no (if support (get no p) (+ (get no p) power)))
    )
    (asserts! (is-eq (get status p) "active") ERR-NOT-ACTIVE)
    (asserts! (<= burn-block-height (get end-burn-height p)) ERR-VOTING-CLOSED)
    (asserts! (> power u0) ERR-NO-POWER)
    (asserts! (map-insert votes { proposal-id: proposal-id, voter: voter } { support: support, power: power })
              ERR-ALREADY-VOTED)
    (map-set proposals proposal-id (merge p { yes: yes, no: no }))
    (print { event: "vote-cast", proposal-id: proposal-id, voter: voter, support: support, power: power,
             yes: yes, no: no, total-power: (get total-power p),
             burn-height: burn-block-height, stacks-height: stacks-block-height })
    (ok power)))

;; Anyone may execute a passed proposal once its timelock has elapsed.
(define-public (execute (proposal-id uint))
  (let ((p (unwrap! (map-get? proposals proposal-id) ERR-UNKNOWN-PROPOSAL)))
    (asserts! (is-eq (get status p) "active") ERR-NOT-ACTIVE)
    (asserts! (> burn-block-height (get end-burn-height p)) ERR-VOTING-OPEN)
    (asserts! (is-passed proposal-id) ERR-NOT-PASSED)
    (asserts! (>= burn-block-height (get eta-burn-height p)) ERR-TIMELOCK)
    (try! (if (is-eq (get kind p) "param")
            (contract-call? .bithedge-parameters set-param (get key p) (get value p))
            (contract-call? .bithedge-parameters set-tier-field (get tier-kind p) (get tier p)
                            (unwrap-panic (as-max-len? (get key p) u24)) (get value p))))
    (map-set proposals proposal-id (merge p { status: "executed" }))
    (print { event: "proposal-executed", proposal-id: proposal-id, kind: (get kind p), key: (get key p),
             tier-kind: (get tier-kind p), tier: (get tier p), value: (get value p),
             yes: (get yes p), no: (get no p), total-power: (get total-power p), executor: tx-sender,
             burn-height: burn-block-height, stacks-height: stacks-block-height })
    (ok true)))

;; The proposer or an admin may cancel any proposal that has not been executed.
(define-public (cancel (proposal-id uint))
  (let ((p (unwrap! (map-get? proposals proposal-id) ERR-UNKNOWN-PROPOSAL)))
    (asserts! (or (is-eq tx-sender (get proposer p))
                  (contract-call? .bithedge-parameters has-role contract-caller "admin")) ERR-NOT-AUTHORIZED)
    (asserts! (is-eq (get status p) "active") ERR-NOT-ACTIVE)
    (map-set proposals proposal-id (merge p { status: "cancelled" }))
    (print { event: "proposal-cancelled", proposal-id: proposal-id, sender: tx-sender,
             yes: (get yes p), no: (get no p),
             burn-height: burn-block-height, stacks-height: stacks-block-height })
    (ok true)))
