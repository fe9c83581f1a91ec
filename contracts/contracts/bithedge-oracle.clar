;; bithedge-oracle: USD x 1e8 prices per asset ("BTC", "STX"), one record per burn height.
;; Each record links to the previous recorded height of the same asset, which lets anyone prove
;; "this is the first price at or after height E" in O(1): that is the deterministic settlement price.

(define-constant ERR-NOT-AUTHORIZED (err u200))
(define-constant ERR-UNKNOWN-ASSET (err u201))
(define-constant ERR-ZERO-PRICE (err u202))
(define-constant ERR-DEVIATION (err u203))
(define-constant ERR-NO-PRICE (err u204))
(define-constant ERR-NOT-FIRST-AFTER-EXPIRY (err u205))
(define-constant ERR-PRICE-TOO-LATE (err u206))
(define-constant ERR-PRICE-NOT-FINAL (err u207))

(define-map latest (string-ascii 8) { price: uint, height: uint })
(define-map history { asset: (string-ascii 8), height: uint } { price: uint, prev-height: uint })

(define-read-only (is-supported-asset (asset (string-ascii 8)))
  (or (is-eq asset "BTC") (is-eq asset "STX")))

(define-read-only (get-latest (asset (string-ascii 8)))
  (map-get? latest asset))

(define-read-only (get-price-at (asset (string-ascii 8)) (height uint))
  (map-get? history { asset: asset, height: height }))

;; Settlement price for expiry `expiry`: the record at `hint` must be the first one at or after
;; `expiry` (its predecessor is before `expiry`), lie in a finished burn block (no later overwrite
;; can change it), and be at most `max-delay` blocks late.
(define-read-only (get-settlement-price (asset (string-ascii 8)) (expiry uint) (hint uint) (max-delay uint))
  (let ((rec (unwrap! (map-get? history { asset: asset, height: hint }) ERR-NO-PRICE)))
    (asserts! (and (>= hint expiry) (< (get prev-height rec) expiry)) ERR-NOT-FIRST-AFTER-EXPIRY)
    (asserts! (< hint burn-block-height) ERR-PRICE-NOT-FINAL)
    (asserts! (<= (- hint expiry) max-delay) ERR-PRICE-TOO-LATE)
    (ok (get price rec))))

(define-public (submit-price (asset (string-ascii 8)) (price uint))
  (let (
      (now burn-block-height)
      (prev (map-get? latest asset))
      (max-dev-bp (contract-call? .bithedge-parameters get-param "oracle.max-deviation-bp"))
      (stale-after (contract-call? .bithedge-parameters get-param "oracle.stale-after-blocks"))
      ;; The guard only applies against a recent price; after a gap any price is accepted.
      (guarded (match prev p (<= (- now (get height p)) stale-after) false))
      (prev-price (match prev p (get price p) u0))
      (prev-height (match prev p (get height p) u0))
      (same-height (is-eq prev-height now))
      (link (if same-height
              (get prev-height (unwrap-panic (map-get? history { asset: asset, height: now })))
              prev-height))
    )
    (asserts! (contract-call? .bithedge-parameters has-role contract-caller "oracle-submitter") ERR-NOT-AUTHORIZED)
    (asserts! (is-supported-asset asset) ERR-UNKNOWN-ASSET)
    (asserts! (> price u0) ERR-ZERO-PRICE)
    (asserts! (or (not guarded)
                  (<= (* (if (> price prev-price) (- price prev-price) (- prev-price price)) u10000)
                      (* prev-price max-dev-bp)))
              ERR-DEVIATION)
    (map-set latest asset { price: price, height: now })
    ;; A second price in the same burn block replaces the first one; settlement only reads
    ;; heights below the current burn height, so it never sees a value that can still change.
    (map-set history { asset: asset, height: now } { price: price, prev-height: link })
    (print { event: "price-submitted", asset: asset, price: price, previous-price: prev-price,
             previous-height: prev-height, replaced: same-height, guard-bypassed: (not guarded),
             submitter: contract-caller,
             burn-height: now, stacks-height: stacks-block-height })
    (ok true)))
