"""Takes over the idempotency records' table, which sessions_app created and renamed for
this app (sessions_app/migrations/0003): state only, the data stays where it is."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("sessions_app", "0003_event_log_and_idempotency_move_out"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="IdempotencyRecord",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("key", models.CharField(max_length=128)),
                        ("fingerprint", models.CharField(max_length=64)),
                        (
                            "state",
                            models.CharField(
                                choices=[("in_progress", "In Progress"), ("done", "Done")],
                                default="in_progress",
                                max_length=16,
                            ),
                        ),
                        ("response_status", models.PositiveSmallIntegerField(blank=True, null=True)),
                        ("response_body", models.JSONField(blank=True, null=True)),
                        ("response_headers", models.JSONField(default=dict)),
                        ("created_at", models.DateTimeField()),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "indexes": [models.Index(fields=["created_at"], name="idempotency_created")],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("user", "key"), name="idempotency_user_key"
                            )
                        ],
                    },
                ),
            ],
        )
    ]
