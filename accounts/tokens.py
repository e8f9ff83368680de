"""Bearer credentials: JWT tokens that carry the user's token generation (see
User.token_generation), and the use of personal access tokens. Kept free of the
services' imports: DRF loads the authentication classes, which use this, early."""

import datetime

from django.db.models import Q
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import PersonalAccessToken, User
from accounts.secrets import secret_hash

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


# The token and its user in one statement, written out once: built by the ORM on every
# request (a join of two models, select_related), the lookup cost more CPU than a JWT's
# decoding and user query together (bench/account_bench.py). The user comes whole, as
# the JWT class loads it; the token's own columns come as extra attributes.
_USER_BY_TOKEN_SQL = (
    "SELECT u.*, t.id AS token_id, t.scope AS token_scope, t.expires_at AS token_expires_at,"
    " t.last_used_at AS token_last_used_at"
    f" FROM {User._meta.db_table} u JOIN {PersonalAccessToken._meta.db_table} t"
    " ON t.user_id = u.id WHERE t.token_hash = %s"
)


def personal_token_authenticate(*, secret: str) -> PersonalAccessToken | None:
    """The live token with this secret (its user loaded), None for an unknown, expired or
    a disabled user's token. Notes the use, at most once a minute per token."""
    now = timezone.now()
    found = list(User.objects.raw(_USER_BY_TOKEN_SQL, [secret_hash(secret, purpose="pat")]))
    if not found or not found[0].is_active:
        return None
    user = found[0]
    token = PersonalAccessToken(
        id=user.token_id,
        user=user,
        scope=user.token_scope,
        expires_at=user.token_expires_at,
        last_used_at=user.token_last_used_at,
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
