"""A PostgreSQL URL naming several servers the way libpq does (``h1:p1,h2:p2``), which is how
the service finds the promoted standby after a fail-over (docs/configuration.md): it is
accepted, printed without its password, handed to psycopg as libpq's host and port lists, and
a real connection skips a server that is down."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from powerdialer.settings import SettingsError
from powerdialer.storage.engine import display_url, make_engine, normalize_url
from powerdialer.storage.store import check_database_url
from tests.e2e.conftest import free_port

LIBPQ = "postgresql://pd:s3cret@db1.internal:5433,db2.internal/powerdialer?connect_timeout=2"


def connect_args(url: str) -> dict[str, object]:
    engine = make_engine(url)
    try:
        _args, params = engine.dialect.create_connect_args(engine.url)
    finally:
        engine.dispose()
    return {k: v for k, v in params.items() if k != "context"}


def test_a_libpq_host_list_becomes_the_drivers_host_and_port_lists() -> None:
    assert connect_args(LIBPQ + "&target_session_attrs=read-write") == {
        "user": "pd",
        "password": "s3cret",
        "dbname": "powerdialer",
        "host": "db1.internal,db2.internal",
        "port": "5433,5432",  # a host without a port gets PostgreSQL's 5432
        "connect_timeout": "2",
        "target_session_attrs": "read-write",
    }


def test_ipv6_hosts_in_brackets_are_read_and_postgres_scheme_is_accepted() -> None:
    found = connect_args("postgres://pd@[::1]:5433,[fd00::2]/powerdialer")
    assert (found["host"], found["port"]) == ("::1,fd00::2", "5433,5432")


def test_a_single_host_url_is_left_as_it_was() -> None:
    assert normalize_url("postgresql://pd@db1:5433/x") == "postgresql+psycopg://pd@db1:5433/x"
    assert normalize_url("sqlite:///powerdialer.db") == "sqlite:///powerdialer.db"


def test_the_printed_url_hides_the_password_of_a_host_list() -> None:
    shown = display_url(LIBPQ)
    assert "s3cret" not in shown
    assert make_url(shown).query["host"] == "db1.internal,db2.internal"


@pytest.mark.parametrize("hosts", ["db1:5432,", "db1:5432,db2:port", ",db2"])
def test_a_malformed_host_list_is_refused_naming_the_fix(hosts: str) -> None:
    with pytest.raises(SettingsError, match=r"is not valid .*postgresql://user@host/dbname"):
        check_database_url(f"postgresql://pd@{hosts}/powerdialer")


def test_a_connection_skips_a_server_that_is_down(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only (POWERDIALER_TEST_DATABASE_URL)")
    real = make_url(normalize_url(database_url))
    down = f"127.0.0.1:{free_port()}"  # bound and released: nothing listens there
    url = (
        f"postgresql://{real.username}@{down},{real.host}:{real.port or 5432}/{real.database}"
        "?target_session_attrs=read-write"
    )
    engine = make_engine(check_database_url(url))
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT current_database()")).scalar() == real.database
    finally:
        engine.dispose()
