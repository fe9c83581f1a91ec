-- Well-formed print events of bithedge-parameters, one typed column per catalog field (macros/queries.sql).
{{ contract_events('bithedge-parameters') }}
