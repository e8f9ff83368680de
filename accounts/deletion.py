"""Steps that must run before a user row is deleted (accounts.services.user_delete), for
the rules of apps above accounts: teams hands over the teams the user alone owns.

An app registers its step in its AppConfig.ready(), so accounts never imports it. Steps
run in registration order (INSTALLED_APPS order), inside the deletion's transaction and
under the user's row lock; what they leave referencing the user is deleted by the
foreign keys' cascades afterwards.
"""

from collections.abc import Callable

UserDeletionStep = Callable[..., None]

_steps: list[UserDeletionStep] = []


def user_deletion_step_register(step: UserDeletionStep) -> None:
    if step not in _steps:
        _steps.append(step)


def user_deletion_steps() -> tuple[UserDeletionStep, ...]:
    return tuple(_steps)
