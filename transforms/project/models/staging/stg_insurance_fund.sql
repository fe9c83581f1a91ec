-- Well-formed print events of bithedge-insurance-fund, one typed column per catalog field (macros/queries.sql).
{{ contract_events('bithedge-insurance-fund') }}
