"""The badges section of the account export (accounts.export), registered in
AnalyticsConfig.ready()."""

import datetime
from collections.abc import Iterator

from accounts.export import export_dumps, export_time
from accounts.models import User
from analytics.models import Badge


def badges_section(user: User, now: datetime.datetime) -> Iterator[str]:
    badges = Badge.objects.filter(user=user).order_by("earned_at", "pk")
    yield export_dumps(
        [
            {"code": badge.code, "name": badge.name, "earned_at": export_time(badge.earned_at)}
            for badge in badges
        ]
    )
