"""Set-based writes of many rows on PostgreSQL, for passes that write tens of thousands.

`bulk_create` builds a model instance per row and quotes every value of every row into
the statement (psycopg binds client-side here), which costs more than the database's
work once rows are counted in thousands. These helpers send the rows as one JSON
document that the statement unpacks with `json_to_recordset`: one parameter, encoded by
the standard library's C encoder, whatever the number of rows. Callers keep the ORM
path for other databases (`is_postgresql`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar

from django.db import connection, models
from django.db.models.expressions import RawSQL
from django.utils import timezone

_M = TypeVar("_M", bound=models.Model)


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):  # dates and datetimes (aware: ISO with the offset)
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _document(rows: Iterable[Any]) -> str:
    return json.dumps(list(rows), default=_plain, separators=(",", ":"))


def in_values(values: Sequence[Any], *, cast: str = "text") -> RawSQL:
    """The right-hand side of an `__in` lookup over many values as one parameter
    (`idempotency_key__in=in_values(keys)`, `pk__in=in_values(ids, cast="bigint")`), not
    one placeholder per value."""
    return RawSQL(f"SELECT jsonb_array_elements_text(%s::jsonb)::{cast}", [_document(values)])


def _columns(model: type[models.Model], names: Iterable[str]) -> list[models.Field[Any, Any]]:
    by_attname = {field.attname: field for field in model._meta.concrete_fields}
    return [by_attname[name] for name in names]


def _record(fields: list[models.Field[Any, Any]]) -> str:
    return ", ".join(f'"{field.column}" {field.db_type(connection)}' for field in fields)


def insert_rows(
    model: type[models.Model],
    rows: Sequence[dict[str, Any]],
    *,
    unique: str,
    update: Sequence[str] = (),
    returning: Sequence[str] = ("id",),
) -> list[tuple[Any, ...]]:
    """INSERT `rows` (dicts by attribute name, all with the same keys) into `model`'s
    table; fields a row leaves out take their default (`auto_now` ones: now). On a
    conflict on the `unique` column the row is left as it is, or with `update` its
    columns are set from ours. Returns `returning` of every row written or updated (a
    row left alone is not returned). PostgreSQL only."""
    if not rows:
        return []
    meta = model._meta
    given = list(rows[0])
    sent = _columns(model, given)
    now = timezone.now()
    constants: list[tuple[models.Field[Any, Any], Any]] = []
    for field in meta.concrete_fields:
        if field.primary_key or field.attname in given:
            continue
        auto = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        value = now if auto else field.get_default()
        constants.append((field, field.get_db_prep_save(value, connection)))
    table = connection.ops.quote_name(meta.db_table)
    names = [f'"{field.column}"' for field in sent] + [f'"{f.column}"' for f, _ in constants]
    select = [f'r."{field.column}"' for field in sent] + [
        f"%s::{field.db_type(connection)}" for field, _ in constants
    ]
    conflict_column = _columns(model, [unique])[0].column
    if update:
        assignments = ", ".join(
            f'"{column}" = EXCLUDED."{column}"'
            for column in (field.column for field in _columns(model, update))
        )
        on_conflict = f'ON CONFLICT ("{conflict_column}") DO UPDATE SET {assignments}'
    else:
        on_conflict = f'ON CONFLICT ("{conflict_column}") DO NOTHING'
    back = ", ".join(f'"{field.column}"' for field in _columns(model, returning))
    sql = (
        f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(select)} "
        f"FROM json_to_recordset(%s::json) AS r({_record(sent)}) {on_conflict} RETURNING {back}"
    )
    params = [value for _, value in constants]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, _document(rows)])
        return cursor.fetchall()


def update_rows(
    model: type[models.Model], rows: Sequence[dict[str, Any]], *, key: str = "id"
) -> int:
    """UPDATE each row of `model` whose `key` is a row's: its other columns take the row's
    values (dicts by attribute name, all with the same keys), one statement for all.
    Returns the number of rows updated. PostgreSQL only."""
    if not rows:
        return 0
    given = list(rows[0])
    sent = _columns(model, given)
    key_column = _columns(model, [key])[0].column
    table = connection.ops.quote_name(model._meta.db_table)
    assignments = ", ".join(
        f'"{field.column}" = r."{field.column}"' for field in sent if field.column != key_column
    )
    sql = (
        f"UPDATE {table} SET {assignments} FROM json_to_recordset(%s::json) AS r({_record(sent)})"
        f' WHERE {table}."{key_column}" = r."{key_column}"'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [_document(rows)])
        return cursor.rowcount


@cache
def _attnames(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return list(model._meta.concrete_fields)


def build(model: type[_M], values: dict[str, Any], **related: models.Model) -> _M:
    """`model(**values)` for values by attribute name (`rule_id`, not `rule`), through
    Django's positional constructor, which skips the keyword path's per-field work (a
    pass builds tens of thousands); fields left out take their default. `related`
    objects are cached on the instance, as `model(rule=rule)` would."""
    instance = model(
        *[
            values[field.attname] if field.attname in values else field.get_default()
            for field in _attnames(model)
        ]
    )
    cache_ = instance._state.fields_cache
    for name, value in related.items():
        cache_[name] = value
    return instance
