"""BitHedge's HTTP API (aiohttp): versioned JSON under ``/v1``, an OpenAPI 3.1 document generated from the same
pydantic models the handlers use, API keys with scopes and rate limits, and a Server-Sent Events stream.

``api.app.create_app`` builds the application from the route modules listed in ``api.app.ROUTE_MODULES``;
``api/README.md`` ("Adding an endpoint") is the way to add one.
"""
