"""Path converters shared by the apps' URLconfs."""

from django.urls import converters, register_converter


class ObjectIdConverter(converters.IntConverter):
    """An object's id in a path. Ids are bigints, so at most 19 digits: a longer number
    is an unknown path (404) rather than a number past a bigint for the database or int()
    to overflow on."""

    regex = "[0-9]{1,19}"


register_converter(ObjectIdConverter, "id")
