"""WebSocket handshake rules: which Origins may connect, and who the socket belongs to."""

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.contrib.auth.models import AnonymousUser

from events.tickets import realtime_ticket_redeem


class NativeOrAllowedOriginValidator:
    """Accepts sockets with no Origin header (native apps send none) and browser sockets
    from the configured WEBSOCKET_ALLOWED_ORIGINS; refuses the handshake otherwise.
    Channels' AllowedHostsOriginValidator would refuse the native clients."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        origin = dict(scope.get("headers", [])).get(b"origin")
        if origin is not None:
            allowed = {value.rstrip("/") for value in settings.WEBSOCKET_ALLOWED_ORIGINS}
            if origin.decode("latin-1").rstrip("/") not in allowed:
                return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)


class TicketAuthMiddleware:
    """Redeems the single-use `ticket` query parameter into scope["user"].

    A missing, used, expired or forged ticket leaves an anonymous user; the consumer
    then closes the socket with code 4401.
    """

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        ticket = (query.get("ticket") or [""])[0]
        redeemed = await database_sync_to_async(realtime_ticket_redeem)(ticket=ticket)
        if redeemed is None:
            scope = {**scope, "user": AnonymousUser(), "token_generation": None}
        else:
            user, generation = redeemed
            scope = {**scope, "user": user, "token_generation": generation}
        return await self.application(scope, receive, send)
