"""The keeper: signs and submits BitHedge's backend writes (oracle prices, settlements)."""
