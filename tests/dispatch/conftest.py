"""Database URLs for the dispatch storage tests: SQLite and a throwaway PostgreSQL."""

from __future__ import annotations

import pytest
from postgres_cluster import postgres_cluster


@pytest.fixture(scope="session")
def postgres_url():
    with postgres_cluster() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A fresh, empty dispatch database on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'dispatch.sqlite'}"
    from sqlalchemy import create_engine, text

    base = request.getfixturevalue("postgres_url")
    name = f"t{abs(hash(request.node.nodeid)) % 10**9}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return base.replace("@/postgres?", f"@/{name}?")
