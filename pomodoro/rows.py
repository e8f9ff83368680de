"""Model instances read by statements written out once, for the hot path's reads
(the authenticated user, a locked session, the timer settings): compiled by the ORM
on every request, these cost more CPU than the rest of a timer action
(docs/benchmarks.md, "CPU per timer action"). The rows come back through the models'
own conversions (`Model.from_db`), so the instances are those the ORM would give."""

from functools import cache

from django.db import connection
from django.db.models import Model


@cache
def _attnames(model: type[Model]) -> tuple[str, ...]:
    return tuple(field.attname for field in model._meta.concrete_fields)


def select_list(model: type[Model], alias: str = "") -> str:
    """The model's columns, in the order `instance_from_row` reads them."""
    quote = connection.ops.quote_name
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + quote(field.column) for field in model._meta.concrete_fields)


def instance_from_row(model: type[Model], row: tuple) -> Model:
    """The instance of the row's first columns, selected by `select_list(model)`."""
    attnames = _attnames(model)
    return model.from_db(connection.alias, list(attnames), row[: len(attnames)])


def instance_fetch(model: type[Model], statement: str, params) -> Model | None:
    """The instance of the first row `statement` answers (it selects
    `select_list(model)` first), or None for no row."""
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        row = cursor.fetchone()
    return None if row is None else instance_from_row(model, row)
