"""The per-user event log: every change a client must hear of, numbered 1, 2, 3, ..."""

from django.conf import settings
from django.db import models

from pomodoro.timefmt import isoformat_utc


class EventStream(models.Model):
    """The per-user counter that hands out gapless event sequence numbers."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    last_seq = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"events of user {self.user_id} up to {self.last_seq}"


class Event(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    seq = models.PositiveBigIntegerField()
    type = models.CharField(max_length=40)
    at = models.DateTimeField()
    data = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "seq"], name="event_user_seq")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.type}"

    def as_message(self) -> dict:
        return {"seq": self.seq, "type": self.type, "at": isoformat_utc(self.at), "data": self.data}
