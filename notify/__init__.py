"""Users by wallet, subscriptions and exactly-once notification delivery (see ``notify/README.md``)."""
