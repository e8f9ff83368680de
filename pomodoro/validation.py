"""Validation of request bodies and query parameters, through the same serializers.

JSON bodies are type-strict: DRF's fields coerce what they are given (a number for a
string field is kept as its text, "yes" and 1 are true, "25" and 5.0 are integers),
which suits query parameters, text by nature, but would let a body mean something its
sender did not write. So before a serializer sees a body (a dict from the JSON parser;
query parameters come as a QueryDict), each value must already have its field's JSON
type: a string for text, choices of text, dates and times; true/false for a boolean; an
integer (not a bool, not 5.0) for an integer or a choice of integers; null only where
the field allows it; and a text no longer than its limit as sent, whitespace included.
A query parameter given empty (`?period=`), or `null` for a boolean, is refused rather
than read as absent.
"""

import datetime

from django.http import QueryDict
from rest_framework import serializers

NOT_A_STRING = "Not a valid string."
NOT_A_BOOLEAN = "Must be a valid boolean."
NOT_AN_INTEGER = "A valid integer is required."
NOT_A_LIST = 'Expected a list of items but got type "{type}".'
NOT_AN_OBJECT = "Invalid data. Expected a dictionary, but got {type}."
BLANK = "This field may not be blank."

# Fields whose input is text in JSON. MultipleChoiceField (a ChoiceField taking a list)
# is not among them; ChoiceFields are sorted by their choices below.
TEXT_FIELDS = (
    serializers.CharField,
    serializers.DateField,
    serializers.DateTimeField,
    serializers.TimeField,
    serializers.DurationField,
    serializers.UUIDField,
)


def validated(serializer_class, data, **kwargs) -> dict:
    """The serializer's validated data; a ValidationError (400 `invalid`) otherwise."""
    serializer = serializer_class(data=data, **kwargs)
    if isinstance(data, QueryDict):
        errors = query_parameter_errors(serializer, data)
    else:
        errors = json_type_errors(serializer, data)
    if errors:
        raise serializers.ValidationError(errors)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def query_parameter_errors(serializer: serializers.Serializer, params: QueryDict) -> dict:
    """{field: [message]} for every parameter given as no value: empty (`?period=`), which
    DRF reads as absent and so answers for a default the client did not ask for, or
    `null` for a boolean, which DRF reads as no filter. A parameter is text; it has no null."""
    errors = {}
    for name, field in serializer.fields.items():
        value = params.get(name)
        if value is None:
            continue
        if value == "" and not getattr(field, "allow_blank", False):
            errors[name] = [BLANK]
        elif isinstance(field, serializers.BooleanField) and value in field.NULL_VALUES:
            errors[name] = [NOT_A_BOOLEAN]
    return errors


def json_type_errors(serializer: serializers.Serializer, data: object) -> dict:
    """{field: [message]} for every value of `data` that is not its field's JSON type."""
    if not isinstance(data, dict):
        return {}  # the serializer itself refuses a body that is not an object
    errors = {}
    for name, field in serializer.fields.items():
        if field.read_only or name not in data:
            continue
        error = _json_type_error(field, data[name])
        if error:
            errors[name] = error
    return errors


def _json_type_error(field: serializers.Field, value: object) -> list | dict | None:
    if value is None:
        return None  # the field's own allow_null decides ("This field may not be null.")
    if isinstance(field, serializers.BaseSerializer):
        if isinstance(field, serializers.ListSerializer):
            return _list_error(field.child, value)
        if not isinstance(value, dict):
            return [NOT_AN_OBJECT.format(type=type(value).__name__)]
        return json_type_errors(field, value) or None
    if isinstance(field, serializers.ListField):
        return _list_error(field.child, value)
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else [NOT_A_BOOLEAN]
    if isinstance(field, serializers.IntegerField):
        return None if _is_integer(value) else [NOT_AN_INTEGER]
    if isinstance(field, serializers.ChoiceField) and not isinstance(
        field, serializers.MultipleChoiceField
    ):
        keys = field.choices.keys()
        if all(isinstance(key, str) for key in keys):
            return None if isinstance(value, str) else [NOT_A_STRING]
        if all(_is_integer(key) for key in keys):
            return None if _is_integer(value) else [NOT_AN_INTEGER]
        return None
    if isinstance(field, TEXT_FIELDS):
        if not isinstance(value, str):
            return [NOT_A_STRING]
        # The limit holds for the text as sent, before DRF trims its whitespace.
        max_length = getattr(field, "max_length", None)
        if max_length is not None and len(value) > max_length:
            return [field.error_messages["max_length"].format(max_length=max_length)]
        return None
    return None  # a field of its own (such as a date-or-datetime) checks its input itself


def _list_error(child: serializers.Field, value: object) -> list | dict | None:
    if not isinstance(value, list):
        return [NOT_A_LIST.format(type=type(value).__name__)]
    errors = {index: _json_type_error(child, item) for index, item in enumerate(value)}
    return {index: error for index, error in errors.items() if error} or None


def _is_integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# --- Dates and instants at the calendar's edges -------------------------------------------

# The dates and instants the API accepts as parameters. What is computed from one (the
# period around a date and the one before it, the summary's previous_focus_seconds; a
# user's UTC offset, up to 14 hours) must stay inside Python's datetime range, years 1
# to 9999, so a year is kept free at each end: anything outside is 400 `invalid`.
EARLIEST_DATE = datetime.date(2, 1, 1)
LATEST_DATE = datetime.date(9998, 12, 31)
EARLIEST_INSTANT = datetime.datetime.combine(EARLIEST_DATE, datetime.time(), tzinfo=datetime.UTC)
LATEST_INSTANT = datetime.datetime.combine(LATEST_DATE, datetime.time(), tzinfo=datetime.UTC)
DATE_OUT_OF_RANGE = f"Give a date from {EARLIEST_DATE} to {LATEST_DATE}."
INSTANT_OUT_OF_RANGE = f"Give a time from {EARLIEST_DATE} to {LATEST_DATE}."


def ensure_date_in_range(day: datetime.date) -> datetime.date:
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise serializers.ValidationError(DATE_OUT_OF_RANGE)
    return day


def ensure_instant_in_range(moment: datetime.datetime) -> datetime.datetime:
    try:
        in_range = EARLIEST_INSTANT <= moment <= LATEST_INSTANT
    except OverflowError:  # an offset that takes year 1 or 9999 out of range
        in_range = False
    if not in_range:
        raise serializers.ValidationError(INSTANT_OUT_OF_RANGE)
    return moment


class BoundedDateField(serializers.DateField):
    """A date parameter (YYYY-MM-DD) from EARLIEST_DATE to LATEST_DATE."""

    def to_internal_value(self, value):
        return ensure_date_in_range(super().to_internal_value(value))


class BoundedDateTimeField(serializers.DateTimeField):
    """An instant parameter from EARLIEST_INSTANT to LATEST_INSTANT."""

    default_error_messages = {
        **serializers.DateTimeField.default_error_messages,
        "overflow": INSTANT_OUT_OF_RANGE,
    }

    def to_internal_value(self, value):
        return ensure_instant_in_range(super().to_internal_value(value))
