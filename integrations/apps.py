from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations (webhooks)"

    def ready(self):
        # Imported here, not at the top: models can be imported only once apps are loaded.
        from events import registry
        from integrations.services import WEBHOOK_EVENT_TYPES, webhook_deliveries_part

        registry.reaction_register(
            "integrations.webhooks",
            event_types=WEBHOOK_EVENT_TYPES,
            handler=webhook_deliveries_part(),
        )
