"""When PostgreSQL last vacuumed a table, for the tests of the engine's vacuums."""

import datetime as dt

from django.db import connection


def database_now() -> dt.datetime:
    """The database's clock, which its vacuum times are read against."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        return cursor.fetchone()[0]


def last_vacuums(*models) -> dict:
    """Model name -> its table's last manual vacuum (None when never vacuumed)."""
    tables = {model._meta.db_table: model.__name__ for model in models}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, last_vacuum FROM pg_stat_user_tables WHERE relname = ANY(%s)",
            [list(tables)],
        )
        return {tables[name]: at for name, at in cursor.fetchall()}
