"""Storage: SQLAlchemy Core tables, Alembic migrations, and the repositories behind `core.ports`."""
