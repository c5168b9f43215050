"""How the importer runs the SQL it generates."""

import psycopg

from catalog.extensions import db


def run_sql(statement: str):
    """Run generated SQL that takes no parameters as it is (its regular expressions hold
    colons that text() would read as parameters)."""
    return db.session.connection().exec_driver_sql(statement)


def driver(connection=None) -> psycopg.Connection:
    """psycopg's own connection under the session's, for COPY."""
    connection = connection or db.session.connection()
    return connection.connection.driver_connection
