"""Production settings plus the reference's route: what the timer benchmark serves.

The service's own URLs stay as they are (bench.reference.urls includes them), so one
server, one set of workers and one middleware stack answer both cycles in the same run.
"""

from pomodoro.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.reference.urls"
