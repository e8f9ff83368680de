from django.apps import AppConfig


class TeamsConfig(AppConfig):
    name = "teams"

    def ready(self):
        from accounts.deletion import user_deletion_step_register
        from teams.services import teams_hand_over

        # A team its only owner leaves by deleting the account is handed over first.
        user_deletion_step_register(teams_hand_over)
