"""The Postgres NOTIFY channels the services wake each other with: one name each, imported by sender and listener.

``RAW`` is also spelled in ``indexer/sql/queries.sql``, which sends it from SQL.
"""

RAW = "bithedge_raw"  # the indexer, after each commit: {"tip": stacks height, "burn": burn height}
ANALYTICS = "bithedge_analytics"  # the transforms daemon, after each good build
NOTIFY_WAKE = "bithedge_notify"  # the API, when a subscription or channel changes: the notify worker rescans
NOTIFY_IN_APP = "bithedge_notify_in_app"  # the notify worker, per in-app notification: the API relays it
