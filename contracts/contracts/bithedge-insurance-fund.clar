;; bithedge-insurance-fund: a reserve per token ("STX" micro-STX, "sBTC" sats) that tops up
;; payouts capped by a policy's collateral (wrong-way risk, H-3). It receives a share of every
;; premium (`fund.premium-bp`) and direct deposits from anyone; the only way out is `cover`, called
;; by the registry at settlement with the policy's shortfall. Accounting is internal:
;; balance = deposits + premiums - covers, never negative, and a cover never exceeds its shortfall.

(define-constant ERR-REGISTRY-ONLY (err u700))
(define-constant ERR-UNKNOWN-TOKEN (err u701))
(define-constant ERR-ZERO-AMOUNT (err u702))

(define-constant REGISTRY .bithedge-policy-registry)
(define-constant SELF (as-contract tx-sender))

(define-map totals (string-ascii 8) { deposits: uint, premiums: uint, covers: uint })

(define-read-only (get-totals (token (string-ascii 8)))
  (let ((t (default-to { deposits: u0, premiums: u0, covers: u0 } (map-get? totals token))))
    (merge t { balance: (- (+ (get deposits t) (get premiums t)) (get covers t)) })))

(define-read-only (get-balance (token (string-ascii 8)))
  (get balance (get-totals token)))

(define-private (receive (token (string-ascii 8)) (amount uint) (from principal) (source (string-ascii 8)) (policy-id uint))
  (let (
      (t (get-totals token))
      (premium (is-eq source "premium"))
    )
    (asserts! (or (is-eq token "STX") (is-eq token "sBTC")) ERR-UNKNOWN-TOKEN)
    (asserts! (> amount u0) ERR-ZERO-AMOUNT)
    (try! (if (is-eq token "STX")
            (stx-transfer? amount from SELF)
            (contract-call? 'SM3VDXK3WZZSA84XXFKAFAF15NNZX32CTSG82JFQ4.sbtc-token transfer amount from SELF none)))
    (map-set totals token { deposits: (if premium (get deposits t) (+ (get deposits t) amount)),
                            premiums: (if premium (+ (get premiums t) amount) (get premiums t)), covers: (get covers t) })
    (print { event: "fund-deposit", token: token, amount: amount, source: source, policy-id: policy-id,
             depositor: from, balance: (+ (get balance t) amount),
             burn-height: burn-block-height, stacks-height: stacks-block-height })
    (ok amount)))

;; Anyone may add to the fund. Never pausable.
(define-public (deposit (token (string-ascii 8)) (amount uint))
  (receive token amount tx-sender "direct" u0))

;; The fund's share of a premium, paid by `payer` (the buyer, tx-sender of create-policy).
(define-public (collect-premium (token (string-ascii 8)) (amount uint) (payer principal) (policy-id uint))
  (begin
    (asserts! (is-eq contract-caller REGISTRY) ERR-REGISTRY-ONLY)
    (receive token amount payer "premium" policy-id)))

;; Pays `recipient` min(shortfall, balance); returns the amount covered.
(define-public (cover (token (string-ascii 8)) (policy-id uint) (shortfall uint) (recipient principal))
  (let (
      (t (get-totals token))
      (covered (if (> shortfall (get balance t)) (get balance t) shortfall))
    )
    (asserts! (is-eq contract-caller REGISTRY) ERR-REGISTRY-ONLY)
    (if (is-eq covered u0)
      (ok u0)
      (begin
        (try! (as-contract (if (is-eq token "STX")
                (stx-transfer? covered tx-sender recipient)
                (contract-call? 'SM3VDXK3WZZSA84XXFKAFAF15NNZX32CTSG82JFQ4.sbtc-token transfer covered tx-sender recipient none))))
        (map-set totals token (merge (unwrap-panic (map-get? totals token)) { covers: (+ (get covers t) covered) }))
        (print { event: "fund-cover", token: token, policy-id: policy-id, recipient: recipient, shortfall: shortfall,
                 covered: covered, uncovered: (- shortfall covered), balance: (- (get balance t) covered),
                 burn-height: burn-block-height, stacks-height: stacks-block-height })
        (ok covered)))))
