"""Configs for the commands: the library's builder (``nlprnn.config``), re-exported for the commands."""

from nlprnn.config import build_config, parse_sets

__all__ = ["build_config", "parse_sets"]
