-- Well-formed print events of bithedge-treasury, one typed column per catalog field (macros/queries.sql).
{{ contract_events('bithedge-treasury') }}
