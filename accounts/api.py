"""HTTP endpoints of accounts: validate, call one service or selector, serialize."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.serializers import (
    ClaimInput,
    LoginInput,
    ProfileSerializer,
    RefreshTokenInput,
    RegisterInput,
    TimerSettingsSerializer,
    TokenPairSerializer,
    UserOnlySerializer,
    UserWithTokensSerializer,
)
from pomodoro.client_address import client_address
from pomodoro.schema import (
    NOT_AUTHENTICATED,
    TOKEN_NOT_VALID,
    invalid,
    problem,
)
from pomodoro.throttling import (
    GuestIpThrottle,
    LoginAccountThrottle,
    LoginIpThrottle,
    RefreshAccountThrottle,
    RefreshIpThrottle,
    RegisterIpThrottle,
)
from pomodoro.validation import validated


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
    throttle_classes = [LoginIpThrottle, LoginAccountThrottle]

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
        return Response(services.auth_login(client=client_address(request), **data))


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
