from django.apps import AppConfig


class TeamsConfig(AppConfig):
    name = "teams"

    def ready(self):
        # Imported here, not at the top: models can be imported only once apps are loaded.
        from events import registry
        from teams.selectors import team_groups_of
        from teams.services import STATUS_EVENT_TYPES, member_status_publish

        registry.reaction_register(
            "teams.member_status", event_types=STATUS_EVENT_TYPES, handler=member_status_publish
        )
        registry.socket_groups_register("teams", team_groups_of)
