from django.apps import AppConfig


class SessionsAppConfig(AppConfig):
    name = "sessions_app"
    verbose_name = "Timer sessions"

    def ready(self):
        from accounts.deletion import user_deletion_step_register
        from sessions_app.services import user_history_delete

        # Tasks and projects are PROTECTed from deletion while sessions use them, so a
        # deleted account's history goes first, in order (accounts.deletion).
        user_deletion_step_register(user_history_delete)
