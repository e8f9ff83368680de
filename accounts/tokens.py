"""JWT tokens that carry the user's token generation (see User.token_generation)."""

from rest_framework_simplejwt.tokens import RefreshToken

GENERATION_CLAIM = "gen"


def token_pair_for(user) -> dict[str, str]:
    """A fresh refresh token (recorded as outstanding) and its access token."""
    refresh = RefreshToken.for_user(user)
    refresh[GENERATION_CLAIM] = user.token_generation
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def token_is_current(token, user) -> bool:
    """False once the user's password changed after the token was issued, or the user is off."""
    return user.is_active and token.get(GENERATION_CLAIM) == user.token_generation
