-- Well-formed print events of bithedge-governance, one typed column per catalog field (macros/queries.sql).
{{ contract_events('bithedge-governance') }}
