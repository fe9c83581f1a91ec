"""The BitHedge API service (api/README.md)."""
