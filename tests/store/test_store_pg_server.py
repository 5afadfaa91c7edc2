"""The throwaway PostgreSQL server of the test suite (tests/pg.py)."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from pg import PG_BIN_ENV, PostgresServer, PostgresUnavailable


def test_missing_server_binaries_are_an_error_that_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PG_BIN_ENV, str(tmp_path))
    with pytest.raises(PostgresUnavailable, match=r"ensure-postgres\.sh") as caught:
        PostgresServer.start()
    assert str(tmp_path) in str(caught.value)


@pytest.mark.postgres
def test_each_test_gets_its_own_empty_database(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    assert postgres_url.startswith(f"postgresql://postgres@127.0.0.1:{postgres_server.port}/")
    other = postgres_server.create_database()
    assert other != postgres_url
    with psycopg.connect(postgres_url) as connection:
        connection.execute("CREATE TABLE mine (id int)")
        connection.commit()
    with psycopg.connect(other) as connection:
        tables = connection.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
    assert tables == (0,)
