"""The store: schema, migrations and every SQL statement consult runs."""

from consult.store.db import Store, open_store

__all__ = ["Store", "open_store"]
