"""Alembic migrations of the store's tables: SqlStore.create_schema upgrades any database to the newest
schema in place (SQLite or PostgreSQL); a database from before migrations is first stamped as the
first schema, which it has."""
