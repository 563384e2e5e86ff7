"""Bridges to third-party backtesters, used to cross-check Contango's engine.

Each bridge adapts Contango's data (continuous contracts from the versioned store) to the other
library's inputs and brings its results back into Contango's result model, so the same metrics
code judges both. The bridges live outside ``engine/``: the engine stays pure computation.
"""
