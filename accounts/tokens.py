"""Bearer credentials: JWT tokens that carry the user's token generation (see
User.token_generation), and the use of personal access tokens. Kept free of the
services' imports: DRF loads the authentication classes, which use this, early."""

import datetime

from django.db.models import Q
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import PersonalAccessToken
from accounts.secrets import secret_hash
from accounts.selectors import user_with_token

PAT_MARKER = "pat_"
# last_used_at is written at most this often per token: a script polling every second
# costs one UPDATE a minute, not one per request.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)

GENERATION_CLAIM = "gen"


def token_pair_for(user) -> dict[str, str]:
    """A fresh refresh token (recorded as outstanding) and its access token."""
    refresh = RefreshToken.for_user(user)
    refresh[GENERATION_CLAIM] = user.token_generation
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def token_is_current(token, user) -> bool:
    """False once the user's password changed after the token was issued, or the user is off."""
    return user.is_active and token.get(GENERATION_CLAIM) == user.token_generation


def personal_token_authenticate(*, secret: str) -> PersonalAccessToken | None:
    """The live token with this secret (its user loaded), None for an unknown, expired or
    a disabled user's token. Notes the use, at most once a minute per token."""
    now = timezone.now()
    found = user_with_token(token_hash=secret_hash(secret, purpose="pat"))
    if found is None or not found[0].is_active:
        return None
    user, (token_id, scope, expires_at, last_used_at) = found
    token = PersonalAccessToken(
        id=token_id, user=user, scope=scope, expires_at=expires_at, last_used_at=last_used_at
    )
    if token.expires_at is not None and token.expires_at <= now:
        return None
    stale = now - LAST_USED_RESOLUTION
    if token.last_used_at is None or token.last_used_at <= stale:
        # Conditional, so of concurrent requests at most one writes in a minute.
        PersonalAccessToken.objects.filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale), pk=token.pk
        ).update(last_used_at=now)
        token.last_used_at = now
    return token
