"""The futures trader's vocabulary as small immutable types (no numpy, pandas, SQL or HTTP)."""
