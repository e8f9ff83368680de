"""Every change to a user's projects and tasks goes through these functions, each in
one transaction with its event."""

from typing import Any

from django.db import transaction
from django.utils import timezone
from rest_framework.exceptions import NotFound, ValidationError

from accounts.models import User
from events.log import event_record
from sessions_app.locks import locked_owned
from sessions_app.models import Project, Task
from sessions_app.references import NOT_YOURS, visible_project
from sessions_app.selectors import task_list_with_focus
from sessions_app.serializers import ProjectSerializer, TaskSerializer


def project_data(project: Project) -> dict:
    return ProjectSerializer(project).data


def task_data(task: Task) -> dict:
    return TaskSerializer(task_list_with_focus(user=task.user, tasks=[task])[0]).data


def _user_project(user: User, project_id: int | None) -> Project | None:
    """The project a task body names; one the user cannot see is bad input (400)."""
    if project_id is None:
        return None
    project = visible_project(user, project_id)
    if project is None:
        raise ValidationError({"project": [NOT_YOURS.format("project")]})
    return project


def _live(model, user: User, pk: int):
    instance = locked_owned(model, user=user, pk=pk)
    if instance is None:
        raise NotFound(f"No such {model._meta.verbose_name}.")
    return instance


@transaction.atomic
def project_create(
    *, user: User, name: str, description: str = "", color: str | None = None
) -> Project:
    project = Project(user=user, name=name, description=description)
    if color:
        project.color = color
    project.save()
    event_record(user=user, type="project.created", data={"project": project_data(project)})
    return project


@transaction.atomic
def project_update(*, user: User, project_id: int, **changes: Any) -> Project:
    project = _live(Project, user, project_id)
    changed = [name for name, value in changes.items() if getattr(project, name) != value]
    if not changed:
        return project
    for name in changed:
        setattr(project, name, changes[name])
    project.save(update_fields=[*changed, "updated_at"])
    event_record(user=user, type="project.updated", data={"project": project_data(project)})
    return project


@transaction.atomic
def project_delete(*, user: User, project_id: int) -> None:
    """Soft delete: the project leaves lists; its tasks stay, shown without a project."""
    project = _live(Project, user, project_id)
    project.deleted_at = timezone.now()
    project.save(update_fields=["deleted_at", "updated_at"])
    event_record(user=user, type="project.deleted", data={"project": {"id": project.pk}})


@transaction.atomic
def task_create(
    *,
    user: User,
    title: str,
    project: int | None = None,
    daily_goal_minutes: int | None = None,
    archived: bool = False,
) -> Task:
    task = Task.objects.create(
        user=user,
        title=title,
        project=_user_project(user, project),
        daily_goal_minutes=daily_goal_minutes,
        archived=archived,
    )
    event_record(user=user, type="task.created", data={"task": task_data(task)})
    return task


@transaction.atomic
def task_update(*, user: User, task_id: int, **changes: Any) -> Task:
    task = _live(Task, user, task_id)
    if "project" in changes:
        changes["project"] = _user_project(user, changes["project"])
    changed = [name for name, value in changes.items() if getattr(task, name) != value]
    if not changed:
        return task
    for name in changed:
        setattr(task, name, changes[name])
    task.save(update_fields=[*changed, "updated_at"])
    event_record(user=user, type="task.updated", data={"task": task_data(task)})
    return task


@transaction.atomic
def task_delete(*, user: User, task_id: int) -> None:
    """Soft delete: the task leaves lists; its sessions keep their time in history."""
    task = _live(Task, user, task_id)
    task.deleted_at = timezone.now()
    task.save(update_fields=["deleted_at", "updated_at"])
    event_record(user=user, type="task.deleted", data={"task": {"id": task.pk}})
