from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed, PermissionDenied
from rest_framework.permissions import SAFE_METHODS
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings

from accounts.models import PersonalAccessToken
from accounts.selectors import user_by_id
from accounts.tokens import PAT_MARKER, personal_token_authenticate, token_is_current

PAT_HEADER_START = f"Bearer {PAT_MARKER}".encode()


class PersonalAccessTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer pat_...`. Listed before AccessTokenAuthentication, which
    would refuse a token that is no JWT; any other header is left to it untouched.

    Its cost per request is the JWT one's: a keyed hash (a JWT's signature is an HMAC
    too) and one indexed query that loads the token with its user (the JWT class loads
    the user); last_used_at adds one UPDATE a minute per token at most."""

    def authenticate(self, request):
        header = get_authorization_header(request)
        if not header.startswith(PAT_HEADER_START):
            return None
        parts = header.split()
        if len(parts) != 2:
            raise AuthenticationFailed("The Authorization header must be Bearer <token>.")
        token = personal_token_authenticate(secret=parts[1].decode("latin-1"))
        if token is None:
            raise AuthenticationFailed("The token is unknown, expired or revoked.")
        # Here rather than in a permission class: views choose their own permissions,
        # every view authenticates through here, so no write can forget the scope.
        if token.scope == PersonalAccessToken.Scope.READ and request.method not in SAFE_METHODS:
            raise PermissionDenied("This token has the read scope: it cannot change anything.")
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class AccessTokenAuthentication(JWTAuthentication):
    """simplejwt's Bearer authentication, plus: a disabled user's tokens and tokens issued
    before the last password change stop working at once."""

    def get_user(self, validated_token):
        # simplejwt's own lookup, with the user read by accounts.selectors.user_by_id.
        # simplejwt writes the id as a string.
        user_id = str(validated_token.get(api_settings.USER_ID_CLAIM, ""))
        if not (user_id.isascii() and user_id.isdigit() and len(user_id) <= 18):
            raise InvalidToken(_("Token contained no recognizable user identification"))
        user = user_by_id(int(user_id))
        if user is None:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")
        if not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        if not token_is_current(validated_token, user):
            raise InvalidToken("The token was revoked.")
        return user


class AccessTokenScheme(SimpleJWTScheme):
    """Documents AccessTokenAuthentication in the OpenAPI schema as simplejwt's Bearer JWT
    (extensions match exact classes, so the subclass needs its own)."""

    target_class = AccessTokenAuthentication


class PersonalAccessTokenScheme(OpenApiAuthenticationExtension):
    target_class = PersonalAccessTokenAuthentication
    name = "personalAccessToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal access token (pat_...), made at /api/v1/me/tokens/.",
        }
