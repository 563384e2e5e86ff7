"""Research tools on top of the engine: parameter sweeps, walk-forward optimisation, overfitting
diagnostics (Deflated Sharpe Ratio, PBO) and a look-ahead detector for vectorized strategies.

Pure computation like the engine: data in memory in, results out; file locations and the data
store belong to ``contango.services``.
"""
