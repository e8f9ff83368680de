"""The web app's sign-in: same-origin endpoints that sign in, sign up, start as a guest
and sign out with Django's session cookie (HttpOnly, SameSite=Lax, Secure in
production), so the page holds no token a script could read.

They are the web app's, outside the contract's JWT flows (docs/api.md, "The web app's
session sign-in"), and left out of the OpenAPI schema. Every one checks the CSRF token
(the `X-CSRFToken` header, from the page): a session cookie alone must never sign anyone
in or out. The answer carries the new CSRF token, since signing in rotates it.
"""

from django.contrib.auth import login, logout
from django.middleware.csrf import get_token
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.serializers import LoginInput, ProfileSerializer, RegisterInput
from pomodoro.throttling import GuestIpThrottle, LoginAccountThrottle, RegisterIpThrottle
from pomodoro.validation import validated


class CsrfOnly(SessionAuthentication):
    """Authenticates nobody; refuses (403) a request without the page's CSRF token."""

    def authenticate(self, request):
        self.enforce_csrf(request)
        return None


class SessionView(APIView):
    authentication_classes = [CsrfOnly]
    permission_classes = [AllowAny]


def signed_in(request, user, *, status_code: int = status.HTTP_200_OK) -> Response:
    # The email backend authenticated the user; login() needs to know which backend.
    login(request, user, backend="accounts.backends.EmailBackend")
    body = {"user": ProfileSerializer(user).data, "csrf_token": get_token(request)}
    return Response(body, status=status_code)


@extend_schema(exclude=True)
class SessionSignInView(SessionView):
    throttle_classes = [LoginAccountThrottle]

    def post(self, request):
        data = validated(LoginInput, request.data)
        return signed_in(request, services.account_authenticate(request=request, **data))


@extend_schema(exclude=True)
class SessionSignUpView(SessionView):
    throttle_classes = [RegisterIpThrottle]

    def post(self, request):
        user = services.account_register(**validated(RegisterInput, request.data))
        return signed_in(request, user, status_code=status.HTTP_201_CREATED)


@extend_schema(exclude=True)
class SessionGuestView(SessionView):
    throttle_classes = [GuestIpThrottle]

    def post(self, request):
        return signed_in(
            request, services.guest_account_create(), status_code=status.HTTP_201_CREATED
        )


@extend_schema(exclude=True)
class SessionSignOutView(SessionView):
    throttle_classes: list = []

    def post(self, request):
        logout(request)
        return Response({"csrf_token": get_token(request)})
