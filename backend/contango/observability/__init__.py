"""Logs, metrics and traces: what operators see of a running Contango."""
