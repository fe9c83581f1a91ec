-- Well-formed print events of bithedge-vault, one typed column per catalog field (macros/queries.sql).
{{ contract_events('bithedge-vault') }}
