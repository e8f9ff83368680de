"""What apps above accounts must change when a user's timer settings change, before the
change's event is recorded (accounts.services.timer_settings_update): sessions_app moves
a running stopwatch's stop to the new `stopwatch_max_minutes`.

An app registers its follower in its AppConfig.ready(), so accounts never imports it.
Followers run in registration order, inside the settings' transaction, under the
settings row lock (and the user row's, when `stopwatch_max_minutes` changes) and before
`event_record` takes the user's event stream row: a follower may lock session rows (the
lock order of sessions_app.locks: user, session rows, then the stream row). A follower
gets the user, the settings as saved and the names of the fields that changed.
"""

from collections.abc import Callable

TimerSettingsFollower = Callable[..., None]

_followers: list[TimerSettingsFollower] = []


def timer_settings_follower_register(follower: TimerSettingsFollower) -> None:
    if follower not in _followers:
        _followers.append(follower)


def timer_settings_followers() -> tuple[TimerSettingsFollower, ...]:
    return tuple(_followers)
