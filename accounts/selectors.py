"""Reading accounts."""

from functools import cache

from django.db import connection

from accounts.models import User

_FIELDS = User._meta.concrete_fields
_ATTNAMES = [field.attname for field in _FIELDS]


@cache
def _user_by_id_statement() -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in _FIELDS)
    return f"SELECT {columns} FROM {quote(User._meta.db_table)} WHERE id = %s"


def user_by_id(user_id: int) -> User | None:
    """The user with this id, or None. Every authenticated request reads its user: the
    statement is written once here rather than compiled by the ORM on each request
    (the same rows, through Model.from_db; docs/benchmarks.md, "CPU per timer action")."""
    with connection.cursor() as cursor:
        cursor.execute(_user_by_id_statement(), [user_id])
        row = cursor.fetchone()
    return None if row is None else User.from_db(connection.alias, _ATTNAMES, row)
