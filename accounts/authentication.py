from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken

from accounts.tokens import token_is_current


class AccessTokenAuthentication(JWTAuthentication):
    """simplejwt's Bearer authentication, plus: a disabled user's tokens and tokens issued
    before the last password change stop working at once."""

    def get_user(self, validated_token):
        user = super().get_user(validated_token)
        if not token_is_current(validated_token, user):
            raise InvalidToken("The token was revoked.")
        return user


class AccessTokenScheme(SimpleJWTScheme):
    """Documents AccessTokenAuthentication in the OpenAPI schema as simplejwt's Bearer JWT
    (extensions match exact classes, so the subclass needs its own)."""

    target_class = AccessTokenAuthentication
