"""Tags, a session's own project (existing sessions take their task's live project),
and the indexes of the history's filters: project, tag, and the trigram indexes of
text search, led by the user (pg_trgm and btree_gin, which the embedded server ships
too)."""

import django.contrib.postgres.fields
import django.contrib.postgres.indexes
import django.core.validators
import django.db.models.deletion
import django.db.models.functions.text
from django.conf import settings
from django.contrib.postgres.operations import BtreeGinExtension, TrigramExtension
from django.db import migrations, models

# A session with a task is in its task's project, unless that project was deleted
# (a task of a deleted project reads as having none).
SESSION_PROJECT_FROM_TASK = """
UPDATE sessions_app_session AS s SET project_id = t.project_id
FROM sessions_app_task AS t JOIN sessions_app_project AS p ON p.id = t.project_id
WHERE s.task_id = t.id AND p.deleted_at IS NULL
"""


class Migration(migrations.Migration):
    dependencies = [
        ("sessions_app", "0003_event_log_and_idempotency_move_out"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        TrigramExtension(),
        BtreeGinExtension(),
        migrations.CreateModel(
            name="Tag",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=50)),
                (
                    "color",
                    models.CharField(
                        default="#6b7280",
                        max_length=7,
                        validators=[
                            django.core.validators.RegexValidator(
                                "^#[0-9a-fA-F]{6}$", "Use a hex colour such as #6b7280."
                            )
                        ],
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
        ),
        migrations.AddField(
            model_name="session",
            name="project",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="sessions",
                to="sessions_app.project",
            ),
        ),
        migrations.AddField(
            model_name="session",
            name="tag_ids",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.BigIntegerField(), blank=True, default=list, size=None
            ),
        ),
        migrations.AddIndex(
            model_name="session",
            index=models.Index(
                condition=models.Q(("deleted_at__isnull", True)),
                fields=["project", "-started_at", "-id"],
                name="session_project_history",
            ),
        ),
        migrations.AddIndex(
            model_name="session",
            index=django.contrib.postgres.indexes.GinIndex(fields=["tag_ids"], name="session_tags"),
        ),
        migrations.AddIndex(
            model_name="session",
            index=django.contrib.postgres.indexes.GinIndex(
                models.F("user"),
                django.contrib.postgres.indexes.OpClass(
                    django.db.models.functions.text.Upper("name"), name="gin_trgm_ops"
                ),
                condition=models.Q(("deleted_at__isnull", True)),
                name="session_user_name_trgm",
            ),
        ),
        migrations.AddIndex(
            model_name="session",
            index=django.contrib.postgres.indexes.GinIndex(
                models.F("user"),
                django.contrib.postgres.indexes.OpClass(
                    django.db.models.functions.text.Upper("description"), name="gin_trgm_ops"
                ),
                condition=models.Q(("deleted_at__isnull", True)),
                name="session_user_description_trgm",
            ),
        ),
        migrations.AddIndex(
            model_name="task",
            index=django.contrib.postgres.indexes.GinIndex(
                models.F("user"),
                django.contrib.postgres.indexes.OpClass(
                    django.db.models.functions.text.Upper("title"), name="gin_trgm_ops"
                ),
                name="task_user_title_trgm",
            ),
        ),
        migrations.AddField(
            model_name="tag",
            name="user",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddConstraint(
            model_name="tag",
            constraint=models.UniqueConstraint(
                models.F("user"),
                django.db.models.functions.text.Lower("name"),
                name="tag_user_name_ci",
            ),
        ),
        migrations.RunSQL(SESSION_PROJECT_FROM_TASK, reverse_sql=migrations.RunSQL.noop),
    ]
