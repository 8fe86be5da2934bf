"""Commands: ``python -m pipelines.<task>``. Each is a thin layer of argument parsing over ``nlprnn``."""
