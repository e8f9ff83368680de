from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"

    def ready(self):
        # Imported here, not at the top: models can be imported only once apps are loaded.
        from analytics.services import BADGE_EVENT_TYPES, badges_on_event, badges_on_events
        from events import registry

        registry.reaction_register(
            "analytics.badges",
            event_types=BADGE_EVENT_TYPES,
            handler=badges_on_event,
            batch_handler=badges_on_events,
        )
        from accounts.export import export_section_register
        from analytics.account_export import badges_section

        export_section_register("badges", badges_section)
