;; bithedge-oracle: USD x 1e8 prices per asset ("BTC", "STX"), one record per burn height.
;; Each record links to the previous recorded height of the same asset, which lets anyone prove
;; "this is the first price at or after height E" in O(1): that is the deterministic settlement price.
;; The deviation guard compares with the latest price of an EARLIER burn block, so resubmitting
;; within one block cannot walk the price; after a gap the allowed move grows, but stays bounded.

(define-constant ERR-NOT-AUTHORIZED (err u200))
(define-constant ERR-UNKNOWN-ASSET (err u201))
(define-constant ERR-ZERO-PRICE (err u202))
(define-constant ERR-DEVIATION (err u203))
(define-constant ERR-NO-PRICE (err u204))
(define-constant ERR-NOT-FIRST-AFTER-EXPIRY (err u205))
(define-constant ERR-PRICE-TOO-LATE (err u206))
(define-constant ERR-PRICE-NOT-FINAL (err u207))
(define-constant ERR-TOO-MANY-UPDATES (err u208))

(define-constant BP u10000)

(define-map latest (string-ascii 8) { price: uint, height: uint })
(define-map history { asset: (string-ascii 8), height: uint } { price: uint, prev-height: uint, updates: uint })

(define-read-only (is-supported-asset (asset (string-ascii 8)))
  (or (is-eq asset "BTC") (is-eq asset "STX")))

(define-read-only (get-latest (asset (string-ascii 8)))
  (map-get? latest asset))

(define-read-only (get-price-at (asset (string-ascii 8)) (height uint))
  (map-get? history { asset: asset, height: height }))

;; Largest move (bp) allowed against a reference price `gap` burn blocks old.
(define-read-only (allowed-deviation-bp (max-dev-bp uint) (stale-after uint) (max-gap-bp uint) (gap uint))
  (let ((grown (* max-dev-bp (+ u1 (/ gap stale-after)))))
    (if (> grown max-gap-bp) max-gap-bp grown)))

;; Settlement price for expiry `expiry`: the record at `hint` must be the first one at or after
;; `expiry` (its predecessor is before `expiry`), lie in a finished burn block (no later overwrite
;; can change it), and be at most `max-delay` blocks late.
(define-read-only (get-settlement-price (asset (string-ascii 8)) (expiry uint) (hint uint) (max-delay uint))
  (let ((rec (unwrap! (map-get? history { asset: asset, height: hint }) ERR-NO-PRICE)))
    (asserts! (and (>= hint expiry) (< (get prev-height rec) expiry)) ERR-NOT-FIRST-AFTER-EXPIRY)
    (asserts! (< hint burn-block-height) ERR-PRICE-NOT-FINAL)
    (asserts! (<= (- hint expiry) max-delay) ERR-PRICE-TOO-LATE)
    (ok (get price rec))))

;; True when no record can ever be a valid settlement price for `expiry` with `max-delay`, once
;; burn-block-height > expiry + max-delay: either nothing was recorded at or after `expiry`, or the
;; first record at or after it (at `hint`) is too late.
(define-read-only (no-settlement-price (asset (string-ascii 8)) (expiry uint) (hint uint) (max-delay uint))
  (and (> burn-block-height (+ expiry max-delay))
       (match (map-get? latest asset)
         l (or (< (get height l) expiry)
               (match (map-get? history { asset: asset, height: hint })
                 rec (and (>= hint expiry) (< (get prev-height rec) expiry) (> (- hint expiry) max-delay))
                 false))
         true)))

(define-public (submit-price (asset (string-ascii 8)) (price uint))
  (let (
      (now burn-block-height)
      (prev (map-get? latest asset))
      (prev-price (match prev p (get price p) u0))
      (prev-height (match prev p (get height p) u0))
      (same-height (and (is-some prev) (is-eq prev-height now)))
      (current (if same-height (map-get? history { asset: asset, height: now }) none))
      ;; the record this one links to: the latest of an earlier burn block (also the guard's reference)
      (link (match current c (get prev-height c) prev-height))
      (ref (if same-height (map-get? history { asset: asset, height: link }) (map-get? history { asset: asset, height: prev-height })))
      (ref-price (match ref r (get price r) u0))
      (updates (+ u1 (match current c (get updates c) u0)))
      (allowed (if (is-some ref)
                 (allowed-deviation-bp (contract-call? .bithedge-parameters get-param "oracle.max-deviation-bp")
                                       (contract-call? .bithedge-parameters get-param "oracle.stale-after-blocks")
                                       (contract-call? .bithedge-parameters get-param "oracle.max-gap-deviation-bp")
                                       (- now link))
                 u0))
    )
    (asserts! (contract-call? .bithedge-parameters has-role contract-caller "oracle-submitter") ERR-NOT-AUTHORIZED)
    (asserts! (is-supported-asset asset) ERR-UNKNOWN-ASSET)
    (asserts! (> price u0) ERR-ZERO-PRICE)
    (asserts! (<= updates (contract-call? .bithedge-parameters get-param "oracle.max-updates-per-block")) ERR-TOO-MANY-UPDATES)
    (asserts! (or (is-none ref)
                  (<= (* (if (> price ref-price) (- price ref-price) (- ref-price price)) BP) (* ref-price allowed)))
              ERR-DEVIATION)
    (map-set latest asset { price: price, height: now })
    ;; A second price in the same burn block replaces the first one; settlement only reads
    ;; heights below the current burn height, so it never sees a value that can still change.
    (map-set history { asset: asset, height: now } { price: price, prev-height: link, updates: updates })
    (print { event: "price-submitted", asset: asset, price: price, previous-price: prev-price,
             previous-height: prev-height, reference-price: ref-price, reference-height: (if (is-some ref) link u0),
             allowed-bp: allowed, updates: updates, replaced: same-height, guard-bypassed: (is-none ref),
             submitter: contract-caller, burn-height: now, stacks-height: stacks-block-height })
    (ok true)))
