"""Oracle prices for the keeper: source adapters, concurrent rounds, aggregation, the publishing rule."""

from keeper.oracle.collect import Source, build_sources, collect_round
from keeper.oracle.config import OracleConfig, SourceConfig
from keeper.oracle.model import BadResponse, Round, SourceQuote

__all__ = ["BadResponse", "OracleConfig", "Round", "Source", "SourceConfig", "SourceQuote", "build_sources",
           "collect_round"]
