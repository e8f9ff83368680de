"""Creates N benchmark users (idempotent) and prints their access tokens as JSON."""

import json
import os
import sys

import django

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from pomodoro.env import use_settings_from_environment

use_settings_from_environment()
django.setup()

from accounts.models import User  # noqa: E402
from accounts.services import user_create  # noqa: E402
from accounts.tokens import token_pair_for  # noqa: E402
from sessions_app.models import Session  # noqa: E402


def main(count: int) -> None:
    tokens = []
    for index in range(count):
        email = f"bench{index}@example.com"
        user = User.objects.filter(email=email).first() or user_create(
            email=email, password="bench passphrase 1", display_name=f"Bench {index}"
        )
        tokens.append(token_pair_for(user)["access"])
    # Every run starts from users with no active session.
    Session.objects.filter(user__email__startswith="bench", state__in=["running", "paused"]).update(
        deleted_at=django.utils.timezone.now()
    )
    json.dump(tokens, sys.stdout)


if __name__ == "__main__":
    main(int(sys.argv[1]))
