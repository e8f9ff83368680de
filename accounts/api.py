"""HTTP endpoints of accounts: validate, call one service or selector, serialize."""

import functools

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import export, selectors, services
from accounts.serializers import (
    AccountDeleteInput,
    CalendarFeedSerializer,
    ClaimInput,
    LoginInput,
    PasswordChangeInput,
    PasswordResetConfirmInput,
    PasswordResetInput,
    PersonalAccessTokenCreatedSerializer,
    PersonalAccessTokenSerializer,
    ProfileSerializer,
    RefreshTokenInput,
    RegisterInput,
    TimerSettingsSerializer,
    TokenPairSerializer,
    UserOnlySerializer,
    UserWithTokensSerializer,
)
from pomodoro.after_response import ResponseThen
from pomodoro.pagination import cursor_paginator
from pomodoro.schema import (
    NOT_AUTHENTICATED,
    NOT_FOUND,
    PAGE_PARAMETERS,
    THROTTLED,
    TOKEN_NOT_VALID,
    invalid,
    paginated,
    problem,
)
from pomodoro.throttling import (
    GuestIpThrottle,
    LoginAccountThrottle,
    PasswordResetEmailThrottle,
    PasswordResetIpThrottle,
    RefreshAccountThrottle,
    RefreshIpThrottle,
    RegisterIpThrottle,
)
from pomodoro.validation import validated

TOO_MANY_GUESSES = problem(
    "Too many password guesses from this address, or for this account (`throttled`).",
    THROTTLED,
)


class PublicAuthView(APIView):
    """Token endpoints: open to anyone, and deaf to a stale Authorization header."""

    authentication_classes: list = []
    permission_classes = [AllowAny]


class RegisterView(PublicAuthView):
    throttle_classes = [RegisterIpThrottle]

    @extend_schema(
        request=RegisterInput,
        responses={201: UserWithTokensSerializer, 400: invalid()},
        tags=["auth"],
        summary="Create an account",
    )
    def post(self, request):
        user, tokens = services.user_register(**validated(RegisterInput, request.data))
        body = {"user": ProfileSerializer(user).data, **tokens}
        return Response(body, status=status.HTTP_201_CREATED)


class LoginView(PublicAuthView):
    throttle_classes = [LoginAccountThrottle]

    @extend_schema(
        request=LoginInput,
        responses={
            200: TokenPairSerializer,
            400: invalid(),
            401: problem("Wrong email or password (`not_authenticated`).", NOT_AUTHENTICATED),
        },
        tags=["auth"],
        summary="Log in with email and password",
    )
    def post(self, request):
        data = validated(LoginInput, request.data)
        return Response(services.auth_login(request=request, **data))


class RefreshView(PublicAuthView):
    throttle_classes = [RefreshIpThrottle, RefreshAccountThrottle]

    @extend_schema(
        request=RefreshTokenInput,
        responses={
            200: TokenPairSerializer,
            400: invalid(),
            401: problem(
                "Expired, rotated, revoked or forged token (`token_not_valid`).", TOKEN_NOT_VALID
            ),
        },
        tags=["auth"],
        summary="Exchange a refresh token for a new pair (the old one stops working)",
    )
    def post(self, request):
        return Response(services.auth_refresh(**validated(RefreshTokenInput, request.data)))


class LogoutView(PublicAuthView):
    throttle_classes = [RefreshIpThrottle, RefreshAccountThrottle]

    @extend_schema(
        request=RefreshTokenInput,
        responses={
            204: None,
            400: invalid(),
            401: problem("The refresh token is not valid (`token_not_valid`).", TOKEN_NOT_VALID),
        },
        tags=["auth"],
        summary="Revoke a refresh token",
    )
    def post(self, request):
        services.auth_logout(**validated(RefreshTokenInput, request.data))
        return Response(status=status.HTTP_204_NO_CONTENT)


class GuestView(PublicAuthView):
    throttle_classes = [GuestIpThrottle]

    @extend_schema(
        request=None,
        responses={201: UserWithTokensSerializer},
        tags=["auth"],
        summary="Create a guest account (no email), to be claimed later",
    )
    def post(self, request):
        user, tokens = services.guest_create()
        body = {"user": ProfileSerializer(user).data, **tokens}
        return Response(body, status=status.HTTP_201_CREATED)


class ClaimView(APIView):
    @extend_schema(
        request=ClaimInput,
        responses={200: UserOnlySerializer, 400: invalid()},
        tags=["auth"],
        summary="Turn the current guest account into a normal one, keeping its data",
    )
    def post(self, request):
        user = services.guest_claim(user=request.user, **validated(ClaimInput, request.data))
        return Response({"user": ProfileSerializer(user).data})


class MeView(APIView):
    @extend_schema(responses={200: ProfileSerializer}, tags=["me"], summary="Your profile")
    def get(self, request):
        return Response(ProfileSerializer(request.user).data)

    @extend_schema(
        request=ProfileSerializer,
        responses={200: ProfileSerializer, 400: invalid()},
        tags=["me"],
        summary="Change your profile",
    )
    def patch(self, request):
        changes = validated(ProfileSerializer, request.data, instance=request.user, partial=True)
        user = services.profile_update(user=request.user, **changes)
        return Response(ProfileSerializer(user).data)

    @extend_schema(
        request=AccountDeleteInput,
        responses={204: None, 400: invalid(), 429: TOO_MANY_GUESSES},
        tags=["me"],
        summary="Delete your account and everything it owns",
    )
    def delete(self, request):
        data = validated(AccountDeleteInput, request.data)
        services.user_delete(user=request.user, password=data.get("password"), request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeView(APIView):
    @extend_schema(
        request=PasswordChangeInput,
        responses={200: TokenPairSerializer, 400: invalid(), 429: TOO_MANY_GUESSES},
        tags=["auth"],
        summary="Change your password: a fresh token pair; every other token stops working",
    )
    def post(self, request):
        data = validated(PasswordChangeInput, request.data)
        return Response(services.password_change(request=request, user=request.user, **data))


class PasswordResetView(PublicAuthView):
    throttle_classes = [PasswordResetIpThrottle, PasswordResetEmailThrottle]

    @extend_schema(
        request=PasswordResetInput,
        responses={
            202: OpenApiResponse(
                description="Always, whether or not an account has this email; if one has, "
                "a reset link is emailed to it."
            ),
            400: invalid(),
        },
        tags=["auth"],
        summary="Email a password reset link",
    )
    def post(self, request):
        email = validated(PasswordResetInput, request.data)["email"]
        web_app_url = settings.WEB_APP_URL or request.build_absolute_uri("/")
        # Looked up and sent after the answer: its time must not tell whether the
        # account exists (docs/security.md#account-enumeration).
        send = functools.partial(
            services.password_reset_request, email=email, web_app_url=web_app_url
        )
        return ResponseThen(status=status.HTTP_202_ACCEPTED, then=send)


class PasswordResetConfirmView(PublicAuthView):
    @extend_schema(
        request=PasswordResetConfirmInput,
        responses={204: None, 400: invalid(), 429: TOO_MANY_GUESSES},
        tags=["auth"],
        summary="Set a new password with the emailed token (once)",
    )
    def post(self, request):
        data = validated(PasswordResetConfirmInput, request.data)
        services.password_reset_confirm(request=request, **data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MySettingsView(APIView):
    @extend_schema(responses={200: TimerSettingsSerializer}, tags=["me"], summary="Timer settings")
    def get(self, request):
        return Response(TimerSettingsSerializer(request.user.timer_settings).data)

    @extend_schema(
        request=TimerSettingsSerializer,
        responses={200: TimerSettingsSerializer, 400: invalid()},
        tags=["me"],
        summary="Change timer settings",
    )
    def patch(self, request):
        changes = validated(TimerSettingsSerializer, request.data, partial=True)
        timer_settings = services.timer_settings_update(user=request.user, **changes)
        return Response(TimerSettingsSerializer(timer_settings).data)


class MyExportView(APIView):
    @extend_schema(
        responses={
            (200, "application/json"): OpenApiResponse(
                response=OpenApiTypes.OBJECT,
                description="Streamed: {exported_at, profile, settings, projects, tasks, tags, "
                "sessions, badges, teams}; each session with its segments.",
            )
        },
        tags=["me"],
        summary="Export everything your account owns, as one JSON document",
    )
    def get(self, request):
        return export.account_export_response(
            user=request.user,
            now=timezone.now(),
            # Under ASGI a synchronous stream would be read whole before the first byte.
            asynchronous=isinstance(request._request, ASGIRequest),
        )


class MyTokenListView(APIView):
    @extend_schema(
        parameters=PAGE_PARAMETERS,
        responses={200: paginated(PersonalAccessTokenSerializer)},
        tags=["me"],
        summary="Your personal access tokens, newest first",
    )
    def get(self, request):
        paginator = cursor_paginator(("-id",))
        page = paginator.paginate_queryset(
            selectors.personal_token_list(user=request.user), request, view=self
        )
        return paginator.get_paginated_response(PersonalAccessTokenSerializer(page, many=True).data)

    @extend_schema(
        request=PersonalAccessTokenSerializer,
        responses={201: PersonalAccessTokenCreatedSerializer, 400: invalid()},
        tags=["me"],
        summary="Create a personal access token (shown once)",
    )
    def post(self, request):
        data = validated(PersonalAccessTokenSerializer, request.data)
        token, secret = services.personal_token_create(user=request.user, **data)
        body = {**PersonalAccessTokenSerializer(token).data, "token": secret}
        return Response(body, status=status.HTTP_201_CREATED)


class MyTokenDetailView(APIView):
    @extend_schema(
        responses={204: None, 404: problem("No such token.", NOT_FOUND)},
        tags=["me"],
        summary="Revoke a personal access token, at once",
    )
    def delete(self, request, token_id: int):
        services.personal_token_delete(user=request.user, token_id=token_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MyCalendarView(APIView):
    @extend_schema(
        request=None,
        responses={201: CalendarFeedSerializer},
        tags=["integrations"],
        summary="A new secret calendar feed URL (the previous one stops working)",
    )
    def post(self, request):
        secret = services.calendar_feed_create(user=request.user)
        url = request.build_absolute_uri(reverse("calendar-feed", kwargs={"token": secret}))
        return Response({"url": url}, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses={204: None},
        tags=["integrations"],
        summary="Revoke your calendar feed URL",
    )
    def delete(self, request):
        services.calendar_feed_delete(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
