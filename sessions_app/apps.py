from django.apps import AppConfig


class SessionsAppConfig(AppConfig):
    name = "sessions_app"
    verbose_name = "Timer sessions"

    def ready(self):
        # Imported here, not at the top: models can be imported only once apps are loaded.
        from events import registry
        from pomodoro.metrics import SCRAPE_TIME_STATE
        from sessions_app import services
        from sessions_app.metrics import SessionStateCollector

        for action, command in services.SOCKET_COMMANDS.items():
            registry.socket_command_register(action, command)
        SCRAPE_TIME_STATE.register(SessionStateCollector())
        from accounts.deletion import user_deletion_step_register
        from sessions_app.deletion import user_history_delete

        # Tasks and projects are PROTECTed from deletion while sessions use them, so a
        # deleted account's history goes first, in order (accounts.deletion).
        user_deletion_step_register(user_history_delete)
        from accounts.settings_followers import timer_settings_follower_register

        # A new stopwatch_max_minutes moves the running stopwatch's stop.
        timer_settings_follower_register(services.stopwatch_limit_follow)
        from accounts.export import export_section_register
        from sessions_app import account_export

        for name in ("projects", "tasks", "tags", "sessions"):
            export_section_register(name, getattr(account_export, f"{name}_section"))
