"""Contango: a futures backtesting platform.

The package is layered: ``domain`` (the trader's vocabulary), ``engine`` (pure computation on
arrays), ``data`` (loading and storing market data), ``services`` (what the command line and the
API call) and ``cli``.
"""

__version__ = "0.1.0"
