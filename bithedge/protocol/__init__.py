"""The BitHedge contracts' rules in Python, once: deployment ids, units, formulas, the quote digest,
the settlement rule and the error codes. Pure functions over ints, no I/O; every formula mirrors
`contracts/README.md` and is checked against the Clarity VM through `contracts/tests/vectors/`."""
