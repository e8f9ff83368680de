from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"

    def ready(self):
        # Imported here, not at the top: models can be imported only once apps are loaded.
        from analytics.services import BADGE_EVENT_TYPES, badges_on_event
        from events import registry

        registry.reaction_register(
            "analytics.badges", event_types=BADGE_EVENT_TYPES, handler=badges_on_event
        )
