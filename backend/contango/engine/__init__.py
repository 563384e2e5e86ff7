"""The backtesting engine: pure computation on in-memory arrays (no I/O, web, database or queue)."""
