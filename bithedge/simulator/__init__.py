"""Market simulator: seedable BTC/STX price paths, an exchange-like price feed, and agents (providers,
buyers, oracle submitter, keeper, governance) that trade against the devnet's real contracts."""
