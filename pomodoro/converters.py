"""Path converters shared by the apps' URLconfs."""

from django.urls import converters, register_converter


class ObjectIdConverter(converters.IntConverter):
    """An object's id in a path. Ids are bigints, so at most 19 digits: a longer number
    is an unknown path (404), where it would otherwise overflow in the database (a 500
    on SQLite) or in int() itself."""

    regex = "[0-9]{1,19}"


register_converter(ObjectIdConverter, "id")
