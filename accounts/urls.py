from django.urls import path

from accounts import api
from pomodoro import converters  # noqa: F401 (registers <id:...>)

urlpatterns = [
    path("auth/register/", api.RegisterView.as_view(), name="auth-register"),
    path("auth/login/", api.LoginView.as_view(), name="auth-login"),
    path("auth/refresh/", api.RefreshView.as_view(), name="auth-refresh"),
    path("auth/logout/", api.LogoutView.as_view(), name="auth-logout"),
    path("auth/guest/", api.GuestView.as_view(), name="auth-guest"),
    path("auth/claim/", api.ClaimView.as_view(), name="auth-claim"),
    path("auth/password/change/", api.PasswordChangeView.as_view(), name="auth-password-change"),
    path("auth/password/reset/", api.PasswordResetView.as_view(), name="auth-password-reset"),
    path(
        "auth/password/reset/confirm/",
        api.PasswordResetConfirmView.as_view(),
        name="auth-password-reset-confirm",
    ),
    path("me/", api.MeView.as_view(), name="me"),
    path("me/settings/", api.MySettingsView.as_view(), name="me-settings"),
    path("me/export/", api.MyExportView.as_view(), name="me-export"),
    path("me/tokens/", api.MyTokenListView.as_view(), name="me-token-list"),
    path("me/tokens/<id:token_id>/", api.MyTokenDetailView.as_view(), name="me-token-detail"),
    path("me/calendar/", api.MyCalendarView.as_view(), name="me-calendar"),
]
