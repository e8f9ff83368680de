"""What a session body names (a task, a project, tags), checked and turned into the
values the session stores.

A reference the caller cannot see (another user's, a deleted one, one that never
existed) is bad input: 400 `invalid` with `errors.<field>`, not 404, which is kept for
the object in the URL. Setting a task sets the session's project to the task's (a
task in a deleted project has none); a task with a different `project` in the same
body is refused, and so is a `project` that differs from the task the session keeps.

`session_references` runs before the session row is locked: it takes FOR KEY SHARE on
the tags it returns (sessions_app.tags says why), and tag rows come before session
rows in the lock order (sessions_app/locks.py).
"""

from dataclasses import dataclass, field
from typing import Any

from rest_framework.exceptions import ValidationError

from accounts.models import User
from sessions_app.models import Project, Session, Task
from sessions_app.tags import tags_share_locked

NOT_YOURS = "No such {} of yours."
# A service argument the body did not name (a project left out is not `project: null`).
NOT_NAMED: Any = object()


def task_project_id(task: Task) -> int | None:
    """The project a task shows: none when its project was deleted."""
    project = task.project
    return project.pk if project is not None and project.deleted_at is None else None


def visible_task(user: User, task_id: int) -> Task | None:
    return (
        Task.objects.filter(pk=task_id, user=user, deleted_at__isnull=True)
        .select_related("project")
        .first()
    )


def visible_project(user: User, project_id: int) -> Project | None:
    return Project.objects.filter(pk=project_id, user=user, deleted_at__isnull=True).first()


@dataclass
class SessionReferences:
    """The checked references of one body: `values` are the session's attributes to set
    (`task_id`, `project_id`, `tag_ids`), for the fields the body named."""

    values: dict[str, Any] = field(default_factory=dict)
    project_named: bool = False

    def check_against(self, session: Session) -> None:
        """A body naming only a project must agree with the task the session keeps."""
        if not self.project_named or "task_id" in self.values or session.task_id is None:
            return
        task = Task.objects.select_related("project").get(pk=session.task_id)
        if task_project_id(task) != self.values["project_id"]:
            raise ValidationError({"project": [_other_project(task)]})


def _other_project(task: Task) -> str:
    project = task_project_id(task)
    where = "in no project" if project is None else f"in project {project}"
    return f"The session's task is {where}; its project must be the task's."


def session_references(user: User, body: dict[str, Any]) -> SessionReferences:
    """Checks the `task`, `project` and `tags` that `body` names (popping them; a value
    NOT_NAMED counts as absent) and answers what the session stores; raises
    ValidationError naming each bad field."""
    for name in [name for name, value in body.items() if value is NOT_NAMED]:
        del body[name]
    errors: dict[str, list[str]] = {}
    references = SessionReferences()
    values = references.values
    task = None
    if "task" in body:
        task_id = body.pop("task")
        if task_id is None:
            values["task_id"] = None  # the session keeps its project
        else:
            task = visible_task(user, task_id)
            if task is None:
                errors["task"] = [NOT_YOURS.format("task")]
            else:
                values["task_id"] = task.pk
                values["project_id"] = task_project_id(task)
    if "project" in body:
        project_id = body.pop("project")
        references.project_named = True
        if project_id is not None and visible_project(user, project_id) is None:
            errors["project"] = [NOT_YOURS.format("project")]
        elif task is not None and task_project_id(task) != project_id:
            errors["project"] = [_other_project(task)]
        else:
            values["project_id"] = project_id
    if "tags" in body:
        wanted = sorted(set(body.pop("tags")))
        found = tags_share_locked(user, wanted)
        missing = [tag for tag in wanted if tag not in set(found)]
        if missing:
            errors["tags"] = [f"No such tag of yours: {', '.join(map(str, missing))}."]
        else:
            values["tag_ids"] = found
    if errors:
        raise ValidationError(errors)
    return references
