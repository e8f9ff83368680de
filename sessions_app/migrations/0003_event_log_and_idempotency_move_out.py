"""The event log moved to the `events` app and idempotency records to `pomodoro`: the
tables are renamed to their new apps' names and the models leave this app's state
(events/migrations/0001 and pomodoro/migrations/0001 take them over, data intact)."""

from django.db import migrations

MOVES = [
    ("sessions_app_eventstream", "events_eventstream"),
    ("sessions_app_event", "events_event"),
    ("sessions_app_idempotencyrecord", "pomodoro_idempotencyrecord"),
]


class Migration(migrations.Migration):
    dependencies = [("sessions_app", "0002_report_indexes")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f"ALTER TABLE {old} RENAME TO {new}",
                    reverse_sql=f"ALTER TABLE {new} RENAME TO {old}",
                )
                for old, new in MOVES
            ],
            state_operations=[
                migrations.DeleteModel(name="Event"),
                migrations.DeleteModel(name="EventStream"),
                migrations.DeleteModel(name="IdempotencyRecord"),
            ],
        )
    ]
