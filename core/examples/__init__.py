"""Runnable examples: ``python -m flambeau.examples.digits``."""
