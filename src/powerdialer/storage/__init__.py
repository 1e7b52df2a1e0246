"""Storage: all SQL lives in this package (schema, migrations, queries, the group-commit writer)."""

from powerdialer.storage.store import Store, open_store

__all__ = ["Store", "open_store"]
