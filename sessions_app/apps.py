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
