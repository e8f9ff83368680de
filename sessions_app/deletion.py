"""What goes before a user's account is deleted (an accounts.deletion step)."""

from accounts.models import User
from sessions_app.models import Project, Session, SessionSegment, Task


def user_history_delete(user: User) -> None:
    """Before `user`'s account is deleted (an accounts.deletion step): its segments,
    sessions, tasks and projects, in that order, since each is PROTECTed from deletion
    while the next refers to it (a session's project too). Plain queryset deletes, a
    statement or two each; tags (which nothing references by key: sessions hold their
    ids in an array, gone with the sessions), the events and the rest go with the
    user row by their cascades."""
    SessionSegment.objects.filter(user=user).delete()
    Session.objects.filter(user=user).delete()
    Task.objects.filter(user=user).delete()
    Project.objects.filter(user=user).delete()
