"""The read model: SQL tables that activities project ticket state into and the API lists from.
SQLite by default, PostgreSQL in production; the schema is owned by Alembic migrations."""
