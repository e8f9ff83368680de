from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings

from accounts.selectors import user_by_id
from accounts.tokens import token_is_current


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
