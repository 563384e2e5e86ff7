"""The metadata database: users, teams, datasets' owners, strategies, jobs and the audit log.

Market data never goes through it (that is the versioned Parquet store); it holds who owns
what and what ran. SQLite is the embedded default, PostgreSQL the production server; the same
models and Alembic migrations serve both.
"""
