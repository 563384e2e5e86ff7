"""Where jobs run: the local worker pool (embedded default), Celery on Redis (scale-out), the
lease recovery both share, and the sandbox of custom strategy code."""
