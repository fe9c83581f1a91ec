;; bithedge-treasury: protocol fees, per token ("STX" micro-STX, "sBTC" sats).
;; The registry pays in a share of every premium (`fee.protocol-bp`) in the policy's creation
;; transaction; only an admin or the governance executor can disburse. Accounting is internal, so
;; tokens sent here directly only add to the token balance: balance = fees - disbursed.

(define-constant ERR-NOT-AUTHORIZED (err u600))
(define-constant ERR-REGISTRY-ONLY (err u601))
(define-constant ERR-UNKNOWN-TOKEN (err u602))
(define-constant ERR-ZERO-AMOUNT (err u603))
(define-constant ERR-INSUFFICIENT-BALANCE (err u604))

(define-constant REGISTRY .bithedge-policy-registry)
(define-constant SELF (as-contract tx-sender))

(define-map totals (string-ascii 8) { fees: uint, disbursed: uint })

(define-read-only (get-totals (token (string-ascii 8)))
  (let ((t (default-to { fees: u0, disbursed: u0 } (map-get? totals token))))
    (merge t { balance: (- (get fees t) (get disbursed t)) })))

(define-read-only (get-balance (token (string-ascii 8)))
  (get balance (get-totals token)))

(define-private (can-disburse (who principal))
  (or (contract-call? .bithedge-parameters has-role who "admin")
      (contract-call? .bithedge-parameters has-role who "governance-executor")))

;; Takes `amount` of the premium from `payer` (the buyer, tx-sender of create-policy).
(define-public (collect-fee (token (string-ascii 8)) (amount uint) (payer principal) (policy-id uint))
  (let ((t (get-totals token)) (fees (+ (get fees t) amount)))
    (asserts! (is-eq contract-caller REGISTRY) ERR-REGISTRY-ONLY)
    (try! (if (is-eq token "STX")
            (stx-transfer? amount payer SELF)
            (contract-call? 'SM3VDXK3WZZSA84XXFKAFAF15NNZX32CTSG82JFQ4.sbtc-token transfer amount payer SELF none)))
    (map-set totals token { fees: fees, disbursed: (get disbursed t) })
    (print { event: "fee-collected", token: token, amount: amount, policy-id: policy-id, payer: payer,
             balance: (+ (get balance t) amount), fees: fees,
             burn-height: burn-block-height, stacks-height: stacks-block-height })
    (ok amount)))

(define-public (disburse (token (string-ascii 8)) (amount uint) (recipient principal))
  (let ((t (get-totals token)) (disbursed (+ (get disbursed t) amount)))
    (asserts! (can-disburse contract-caller) ERR-NOT-AUTHORIZED)
    (asserts! (or (is-eq token "STX") (is-eq token "sBTC")) ERR-UNKNOWN-TOKEN)
    (asserts! (> amount u0) ERR-ZERO-AMOUNT)
    (asserts! (<= amount (get balance t)) ERR-INSUFFICIENT-BALANCE)
    (try! (as-contract (if (is-eq token "STX")
            (stx-transfer? amount tx-sender recipient)
            (contract-call? 'SM3VDXK3WZZSA84XXFKAFAF15NNZX32CTSG82JFQ4.sbtc-token transfer amount tx-sender recipient none))))
    (map-set totals token { fees: (get fees t), disbursed: disbursed })
    (print { event: "treasury-disbursed", token: token, amount: amount, recipient: recipient, sender: contract-caller,
             balance: (- (get balance t) amount), disbursed: disbursed,
             burn-height: burn-block-height, stacks-height: stacks-block-height })
    (ok amount)))
