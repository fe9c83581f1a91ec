-- Well-formed print events of bithedge-policy-registry, one typed column per catalog field (macros/queries.sql).
{{ contract_events('bithedge-policy-registry') }}
