import datetime

import factory
from django.utils import timezone

from accounts.models import TimerSettings, User
from sessions_app.models import Project, Session, SessionSegment, Tag, Task

PASSWORD = "a sturdy passphrase 42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    display_name = factory.Sequence(lambda n: f"User {n}")
    password = factory.django.Password(PASSWORD)
    settings = factory.RelatedFactory(
        "tests.factories.TimerSettingsFactory", factory_related_name="user"
    )


class TimerSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimerSettings
        django_get_or_create = ("user",)

    user = factory.SubFactory(UserFactory)


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Project {n}")


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"tag{n}")


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Task

    user = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Task {n}")


class FinishedSessionFactory(factory.django.DjangoModelFactory):
    """A completed session with one segment [started_at, started_at + planned_seconds)."""

    class Meta:
        model = Session
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    kind = Session.Kind.FOCUS
    state = Session.State.COMPLETED
    planned_seconds = 1500
    started_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(hours=1))
    ended_at = factory.LazyAttribute(
        lambda s: s.started_at + datetime.timedelta(seconds=s.planned_seconds or 600)
    )
    closed_running_time = factory.LazyAttribute(lambda s: s.ended_at - s.started_at)
    segment = factory.RelatedFactory(
        "tests.factories.SegmentFactory",
        factory_related_name="session",
        user=factory.SelfAttribute("..user"),
        started_at=factory.SelfAttribute("..started_at"),
        ended_at=factory.SelfAttribute("..ended_at"),
    )


class SegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SessionSegment
