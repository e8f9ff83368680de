from django.apps import AppConfig


class TeamsConfig(AppConfig):
    name = "teams"

    def ready(self):
        # Imported here, not at the top: models can be imported only once apps are loaded.
        from events import registry
        from teams.selectors import team_groups_of, team_ids_read
        from teams.services import (
            MEMBER_STATUS,
            STATUS_EVENT_TYPES,
            member_status_publish,
            member_status_publish_last,
        )

        registry.reaction_register(
            MEMBER_STATUS,
            event_types=STATUS_EVENT_TYPES,
            handler=member_status_publish,
            batch_handler=member_status_publish_last,
            reads=team_ids_read(),
        )
        registry.socket_groups_register("teams", team_groups_of)
        from accounts.deletion import user_deletion_step_register
        from teams.services import teams_hand_over

        # A team its only owner leaves by deleting the account is handed over first.
        user_deletion_step_register(teams_hand_over)
        from accounts.export import export_section_register
        from teams.account_export import teams_section

        export_section_register("teams", teams_section)
