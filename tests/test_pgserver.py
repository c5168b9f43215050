"""The embedded cluster's superuser SQL (LocalPostgres.run_sql): what it answers, that it
leaves no connection to the databases it ran in, and that it outlives a lost connection."""

import psycopg
import pytest

from tests.conftest import TEMPLATE, worker_database


def test_it_answers_as_psql_prints(postgres):
    assert postgres.run_sql("SELECT 1, true, false, NULL::text, 'a b'") == "1|t|f||a b"
    assert postgres.run_sql("SELECT n FROM generate_series(1, 3) n") == "1\n2\n3"
    assert postgres.run_sql("SELECT 1 WHERE false") == ""
    # Several statements: the last one's rows.
    assert postgres.run_sql("SELECT 'first'; SELECT 'last'") == "last"
    with pytest.raises(psycopg.errors.UndefinedTable):
        postgres.run_sql("SELECT * FROM no_such_table")
    assert postgres.run_sql("SELECT 2") == "2"  # an error leaves it usable


def test_a_database_it_ran_in_can_be_copied_at_once(postgres):
    source, copy = worker_database("run_sql_source"), worker_database("run_sql_copy")
    postgres.drop_database(copy)
    postgres.drop_database(source)
    postgres.create_database(source, template=TEMPLATE)
    try:
        assert postgres.run_sql("SELECT current_database()", source) == source
        # Refused while anyone is connected to the source: nobody is.
        postgres.create_database(copy, template=source)
        assert postgres.run_sql(f"SELECT 1 FROM pg_database WHERE datname = '{copy}'") == "1"
    finally:
        postgres.drop_database(copy)
        postgres.drop_database(source)


def test_a_lost_connection_is_opened_again(postgres):
    pid = postgres.run_sql("SELECT pg_backend_pid()")
    with psycopg.connect(
        host=str(postgres.socket_dir), user="postgres", dbname="postgres", autocommit=True
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s::int, 5000)", (pid,))  # gone when it returns
    # The kept connection learns it is gone on its next statement, which runs again anew.
    assert postgres.run_sql("SELECT pg_backend_pid()") != pid
