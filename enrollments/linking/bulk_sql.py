"""Set-based writes: one INSERT or UPDATE statement per call, whatever the number of rows.

Django's bulk_create/bulk_update split their work on SQLite into statements of at most
999 parameters, and bulk_update builds a CASE of one branch per row, which costs
rows x rows on PostgreSQL. Linking writes thousands of rows per batch, so it uses these two
plain statements instead (portable to SQLite >= 3.33 and PostgreSQL):

    INSERT INTO t (a, b) VALUES (...), (...)
    WITH v (pk, a) AS (VALUES (...), (...)) UPDATE t SET a = v.a FROM v WHERE t.pk = v.pk
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection, models

# Far below SQLite's 32766 and PostgreSQL's 65535 bind parameters per statement.
MAX_PARAMS = 30_000


def _chunks(rows: Sequence[tuple], width: int) -> list[Sequence[tuple]]:
    size = max(1, MAX_PARAMS // max(1, width))
    return [rows[i : i + size] for i in range(0, len(rows), size)]


_PLAIN = (int, str, bool, type(None))


def _params(fields: Sequence[models.Field], chunk: Sequence[tuple]) -> list[Any]:
    """Values prepared for the database; plain values are passed as they are (fast path)."""
    params: list[Any] = []
    for row in chunk:
        for f, v in zip(fields, row, strict=True):
            params.append(v if type(v) in _PLAIN else f.get_db_prep_save(v, connection))
    return params


def _fields(model: type[models.Model], names: Sequence[str]) -> list[models.Field]:
    return [model._meta.get_field(name) for name in names]


def insert_rows(model: type[models.Model], names: Sequence[str], rows: Sequence[tuple]) -> None:
    """INSERT the rows (tuples of values in the order of `names`)."""
    if not rows:
        return
    qn = connection.ops.quote_name
    fields = _fields(model, names)
    columns = ", ".join(qn(f.column) for f in fields)
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    with connection.cursor() as cursor:
        for chunk in _chunks(rows, len(fields)):
            params = _params(fields, chunk)
            sql = (
                f"INSERT INTO {qn(model._meta.db_table)} ({columns}) "
                f"VALUES {', '.join([row_sql] * len(chunk))}"
            )
            cursor.execute(sql, params)


def update_rows(model: type[models.Model], names: Sequence[str], rows: Sequence[tuple]) -> None:
    """UPDATE each row given as (pk, value of names[0], value of names[1], ...)."""
    if not rows:
        return
    qn = connection.ops.quote_name
    pk = model._meta.pk
    fields = [pk, *_fields(model, names)]
    table = qn(model._meta.db_table)
    aliases = ["k", *[f"v{i}" for i in range(len(names))]]
    # Casts in the first row give the VALUES columns their types (NULLs and text literals
    # would otherwise be typed as text on PostgreSQL).
    first_row = "(" + ", ".join(f"CAST(%s AS {f.cast_db_type(connection)})" for f in fields) + ")"
    other_row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sets = ", ".join(
        f"{qn(f.column)} = v.{alias}" for f, alias in zip(fields[1:], aliases[1:], strict=True)
    )
    with connection.cursor() as cursor:
        for chunk in _chunks(rows, len(fields)):
            params = _params(fields, chunk)
            values = ", ".join([first_row] + [other_row] * (len(chunk) - 1))
            sql = (
                f"WITH v ({', '.join(aliases)}) AS (VALUES {values}) "
                f"UPDATE {table} SET {sets} FROM v WHERE {table}.{qn(pk.column)} = v.k"
            )
            cursor.execute(sql, params)
