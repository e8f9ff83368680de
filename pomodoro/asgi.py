"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

from django.core.asgi import get_asgi_application

from pomodoro.env import use_settings_from_environment

use_settings_from_environment()
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402

application = ProtocolTypeRouter({"http": django_asgi_app})
