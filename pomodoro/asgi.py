"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

import gc

from django.core.asgi import get_asgi_application

from pomodoro.env import use_settings_from_environment

use_settings_from_environment()
django_asgi_app = get_asgi_application()

# Imported after Django is set up: the consumers use the ORM.
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from events.realtime_auth import (  # noqa: E402
    NativeOrAllowedOriginValidator,
    TicketAuthMiddleware,
)
from events.routing import websocket_urlpatterns  # noqa: E402
from pomodoro.body_limit import RequestBodyLimit  # noqa: E402

application = ProtocolTypeRouter(
    {
        # Refuses an oversized body before Django receives (and spools) it.
        "http": RequestBodyLimit(django_asgi_app),
        "websocket": NativeOrAllowedOriginValidator(
            TicketAuthMiddleware(URLRouter(websocket_urlpatterns))
        ),
    }
)

# Everything imported so far lives as long as the process: out of the garbage collector's
# reach, its full collections stop walking it and stop adding tens of ms to whichever
# message or request triggers one (gunicorn.conf.py says the same for HTTP workers).
gc.freeze()
