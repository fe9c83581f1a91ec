-- Well-formed print events of bithedge-oracle, one typed column per catalog field (macros/queries.sql).
{{ contract_events('bithedge-oracle') }}
