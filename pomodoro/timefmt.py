import datetime


def isoformat_utc(moment: datetime.datetime) -> str:
    """The API's time format, as DRF renders it: ISO 8601 in UTC with a Z."""
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")
