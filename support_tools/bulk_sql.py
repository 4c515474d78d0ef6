"""Set-based SQL: one statement per call, whatever the number of rows, and lists passed whole.

Django's bulk_create/bulk_update split their work on SQLite into statements of at most
999 parameters, and bulk_update builds a CASE of one branch per row, which costs
rows x rows on PostgreSQL. Its `__in` lists cost per element in Python, and each placeholder
costs again in psycopg's parsing of the statement. Linking reads and writes thousands of rows
per batch, so it uses these instead.

On PostgreSQL each column travels as one array (the statement's text does not grow with the
rows, and the planner sees how many there are):

    INSERT INTO t (a, b) SELECT * FROM unnest(%s::a_type[], %s::b_type[])
    UPDATE t SET a = v.a FROM unnest(%s::bigint[], %s::a_type[]) AS v (k, a)
        WHERE t.pk = v.k AND t.pk = ANY(%s::bigint[])
    ... WHERE column = ANY(%s::type[])                          (AnyOf, for reads)

On SQLite (>= 3.33) as plain statements:

    INSERT INTO t (a, b) VALUES (...), (...)
    WITH v (pk, a) AS (VALUES (...), (...)) UPDATE t SET a = v.a FROM v
        WHERE t.pk = v.pk AND t.pk IN (...)
    ... WHERE column IN (SELECT value FROM json_each(%s))     (AnyOf)

In both UPDATEs the condition on the primary key itself makes the planner find the rows by
their index: joined to the new values alone, PostgreSQL may hash them and scan the whole
table, a cost per statement that grows with the table (quadratic over a sheet that fills it).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.db import connection, models
from django.db.models import Lookup

# Far below SQLite's 32766 bind parameters per statement.
MAX_PARAMS = 30_000

_PLAIN = (int, str, bool, type(None))
_PLAIN_TYPES = frozenset(_PLAIN)


class AnyOf(Lookup):
    """`AnyOf(F("field") or an expression, values)` in `filter()`: the field is one of `values`,
    the list passed as one parameter."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler: Any, conn: Any) -> tuple[str, list[Any]]:
        lhs, params = self.process_lhs(compiler, conn)
        array = f"{self.lhs.output_field.cast_db_type(conn)}[]"
        return f"{lhs} = ANY(%s::{array})", [*params, array_literal(list(self.rhs))]

    def as_sqlite(self, compiler: Any, conn: Any) -> tuple[str, list[Any]]:
        lhs, params = self.process_lhs(compiler, conn)
        return f"{lhs} IN (SELECT value FROM json_each(%s))", [*params, json.dumps(list(self.rhs))]


# Within a set-based run's transaction, PostgreSQL's planner is told that a page read by index
# costs about what a sequential one does (the rows probed are cached or on SSD): with its default
# (4), probing a few thousand keys by index looks dearer than scanning the whole table, so each
# batch would read every row of the table, and a sheet's cost would grow with the table. Measured
# on 100,000 program enrollments: 27 ms by scan, 4 ms by index, per batch of 2,000 keys.
PROBE_RANDOM_PAGE_COST = 1.1


def prefer_index_probes() -> None:
    """For the rest of the current transaction (PostgreSQL; nothing elsewhere): plan reads of
    many keys as index probes. Call inside `transaction.atomic()`."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL random_page_cost = {PROBE_RANDOM_PAGE_COST}")


def fetch(queryset: models.QuerySet) -> list[tuple]:
    """The rows of a `values_list()` query as tuples. On PostgreSQL (whose driver gives these
    types as Django would) fetched at once, without Django's per-row iteration (chunks of 100
    rows, converters): a batch reads thousands. Elsewhere through Django, converters and all."""
    if connection.vendor != "postgresql" or queryset.db != "default":
        return list(queryset)
    sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def array_literal(values: list[Any]) -> str | list[Any]:
    """The PostgreSQL array literal of a list of ints, bools or strs (None as NULL), made in
    C-level joins: psycopg would dump the list element by element. Other lists are returned as
    they are, for psycopg."""
    types = set(map(type, values))
    if types <= {int, bool}:
        return "{" + ",".join(map(str, values)) + "}"  # True/False are boolean input too
    if types == {str}:
        # Each element double-quoted: inside, only the backslash and the double quote are special.
        if '"' in (text := "".join(values)) or "\\" in text:
            values = [v.replace("\\", "\\\\").replace('"', '\\"') for v in values]
        return '{"' + '","'.join(values) + '"}'
    if types <= {int, bool, type(None)}:
        return "{" + ",".join(["NULL" if v is None else str(v) for v in values]) + "}"
    return values


def _chunks(rows: Sequence[tuple], width: int) -> list[Sequence[tuple]]:
    size = max(1, MAX_PARAMS // max(1, width))
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def _params(fields: Sequence[models.Field], chunk: Sequence[tuple]) -> list[Any]:
    """Values prepared for the database; plain values are passed as they are (fast path)."""
    return [_prep(f, v) for row in chunk for f, v in zip(fields, row, strict=True)]


class _Columns:
    """PostgreSQL: each column as an expression over `unnest` of one array per column, or, when
    every row holds the same value (a mode, a timestamp), that value once."""

    def __init__(self, fields: Sequence[models.Field], rows: Sequence[tuple]) -> None:
        self.expressions: list[str] = []
        self.constants: list[Any] = []  # the parameters of the expressions, in order
        self.arrays: list[str] = []  # `%s::type[]` of each array
        self.aliases: list[str] = []
        self.lists: list[list[Any]] = []
        for i, (f, column) in enumerate(zip(fields, zip(*rows, strict=True), strict=True)):
            db_type = f.cast_db_type(connection)
            values = _prepared(f, column)
            # The first column is always an array: `unnest()` needs one, and it sets the rows.
            if i and len(values) > 1 and _all_equal(values):
                self.expressions.append(f"%s::{db_type}")
                self.constants.append(values[0])
                continue
            alias = f"c{i}"
            self.expressions.append(f"v.{alias}")
            self.arrays.append(f"%s::{db_type}[]")
            self.aliases.append(alias)
            self.lists.append(array_literal(values))

    @property
    def source(self) -> str:
        return f"unnest({', '.join(self.arrays)}) AS v ({', '.join(self.aliases)})"


def _prepared(f: models.Field, column: Sequence[Any]) -> list[Any]:
    types = set(map(type, column))
    if types <= _PLAIN_TYPES:
        return list(column)
    if types & {dict, list}:  # JSON values: unhashable, each prepared on its own
        return [_prep(f, v) for v in column]
    cache: dict[Any, Any] = {}  # a timestamp shared by every row is prepared once
    return [cache[v] if v in cache else cache.setdefault(v, _prep(f, v)) for v in column]


def _prep(f: models.Field, value: Any) -> Any:
    return value if type(value) in _PLAIN else f.get_db_prep_save(value, connection)


def _all_equal(values: list[Any]) -> bool:
    try:
        return len(set(values)) == 1 and len(set(map(type, values))) == 1
    except TypeError:  # unhashable
        return False


def _fields(model: type[models.Model], names: Sequence[str]) -> list[models.Field]:
    return [model._meta.get_field(name) for name in names]


def insert_rows(
    model: type[models.Model],
    names: Sequence[str],
    rows: Sequence[tuple],
    *,
    returning: Sequence[str] = (),
) -> list[tuple]:
    """INSERT the rows (tuples of values in the order of `names`); returns, for each row
    inserted, the values of the fields `returning` (none asked: an empty list)."""
    if not rows:
        return []
    qn = connection.ops.quote_name
    fields = _fields(model, names)
    columns = ", ".join(qn(f.column) for f in fields)
    table = qn(model._meta.db_table)
    back = f" RETURNING {', '.join(qn(f.column) for f in _fields(model, returning))}"
    back = back if returning else ""
    out: list[tuple] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cols = _Columns(fields, rows)
            sql = (
                f"INSERT INTO {table} ({columns}) "
                f"SELECT {', '.join(cols.expressions)} FROM {cols.source}{back}"
            )
            cursor.execute(sql, [*cols.constants, *cols.lists])
            return cursor.fetchall() if returning else out
        row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
        for chunk in _chunks(rows, len(fields)):
            params = _params(fields, chunk)
            values = ", ".join([row_sql] * len(chunk))
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {values}{back}", params)
            if returning:
                out += cursor.fetchall()
    return out


def update_rows(model: type[models.Model], names: Sequence[str], rows: Sequence[tuple]) -> None:
    """UPDATE each row given as (pk, value of names[0], value of names[1], ...)."""
    if not rows:
        return
    qn = connection.ops.quote_name
    pk = model._meta.pk
    fields = [pk, *_fields(model, names)]
    table = qn(model._meta.db_table)
    column = f"{table}.{qn(pk.column)}"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cols = _Columns(fields, rows)
            sets = ", ".join(
                f"{qn(f.column)} = {e}"
                for f, e in zip(fields[1:], cols.expressions[1:], strict=True)
            )
            sql = (
                f"UPDATE {table} SET {sets} FROM {cols.source} "
                f"WHERE {column} = v.c0 AND {column} = ANY({cols.arrays[0]})"
            )
            cursor.execute(sql, [*cols.constants, *cols.lists, cols.lists[0]])
            return
        aliases = ["k", *[f"v{i}" for i in range(len(names))]]
        sets = ", ".join(
            f"{qn(f.column)} = v.{alias}" for f, alias in zip(fields[1:], aliases[1:], strict=True)
        )
        # Casts in the first row give the VALUES columns their types.
        first_row = (
            "(" + ", ".join(f"CAST(%s AS {f.cast_db_type(connection)})" for f in fields) + ")"
        )
        other_row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        for chunk in _chunks(rows, len(fields) + 1):
            params = _params(fields, chunk) + [row[0] for row in chunk]
            values = ", ".join([first_row] + [other_row] * (len(chunk) - 1))
            sql = (
                f"WITH v ({', '.join(aliases)}) AS (VALUES {values}) "
                f"UPDATE {table} SET {sets} FROM v WHERE {column} = v.k "
                f"AND {column} IN ({', '.join(['%s'] * len(chunk))})"
            )
            cursor.execute(sql, params)
