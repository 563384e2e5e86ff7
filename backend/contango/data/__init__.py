"""Market data: import, validation, the versioned store and contract registry."""
