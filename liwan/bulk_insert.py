"""Inserting many rows fast: COPY on PostgreSQL, ``bulk_create`` elsewhere.

For writers of tens of thousands of rows at once (the benchmark seeder, through the ledger's
services): bulk INSERTs of a few thousand rows spend most of their time building the statement,
and model instances cost more than the database does. These functions write what they are
given and nothing else — no ``save()``, no signals, no ``auto_now`` — so the caller supplies
every column, timestamps included.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from operator import attrgetter
from typing import Any

from django.db import connection, models

BATCH = 5000


def reserve_ids(model: type[models.Model], count: int) -> int:
    """The first of ``count`` consecutive free primary keys of ``model``'s table."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Advance the sequence past the whole block in one call.
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'),"
                " nextval(pg_get_serial_sequence(%s, 'id')) + %s - 1)",
                [table, table, count],
            )
            return cursor.fetchone()[0] - count + 1
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {connection.ops.quote_name(table)}")  # noqa: S608 # nosec B608 — a model's own table name
        return cursor.fetchone()[0]


def copy_rows(model: type[models.Model], columns: tuple[str, ...], rows: Iterable[tuple]) -> None:
    """Insert plain tuples (values by attribute name, in the order of ``columns``); ``rows``
    may be a generator, written as it yields."""
    if isinstance(rows, Sequence) and not rows:
        return
    if connection.vendor != "postgresql":
        with own_timestamps(model):
            model.objects.bulk_create(
                [model(**dict(zip(columns, row, strict=True))) for row in rows], batch_size=BATCH
            )
        return
    from psycopg.types.json import Jsonb

    fields = {f.attname: f for f in model._meta.concrete_fields}
    names = ", ".join(connection.ops.quote_name(fields[c].column) for c in columns)
    json_at = [i for i, c in enumerate(columns) if isinstance(fields[c], models.JSONField)]
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(model._meta.db_table)
        with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                if json_at:
                    row = tuple(Jsonb(v) if i in json_at else v for i, v in enumerate(row))
                copy.write_row(row)


def insert_objects(objs: Sequence[models.Model]) -> None:
    """Insert unsaved model instances of one model, giving each its primary key."""
    if not objs:
        return
    model = type(objs[0])
    first = reserve_ids(model, len(objs))
    for offset, obj in enumerate(objs):
        obj.pk = first + offset
        obj._state.adding = False
    concrete = model._meta.concrete_fields
    columns = tuple(f.attname for f in concrete)
    read = attrgetter(*columns)
    # attrgetter of one name returns the value itself, of several a tuple.
    rows = [(read(obj),) for obj in objs] if len(columns) == 1 else [read(obj) for obj in objs]
    file_at = [i for i, f in enumerate(concrete) if isinstance(f, models.FileField)]
    if file_at:
        rows = [tuple(str(v) if i in file_at else v for i, v in enumerate(row)) for row in rows]
    copy_rows(model, columns, rows)


@contextmanager
def own_timestamps(*model_classes: type[models.Model]) -> Iterator[None]:
    """Let ``bulk_create`` keep the created_at/updated_at it is given (COPY always does)."""
    switched: list[tuple[Any, bool, bool]] = []
    for model in model_classes:
        for f in model._meta.concrete_fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                switched.append((f, f.auto_now, f.auto_now_add))
                f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in switched:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add
