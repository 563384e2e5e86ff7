"""The REST and WebSocket API under ``/api/v1``: a thin layer over the services."""
