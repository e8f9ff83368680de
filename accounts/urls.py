from django.urls import path

from accounts import api

urlpatterns = [
    path("auth/register/", api.RegisterView.as_view(), name="auth-register"),
    path("auth/login/", api.LoginView.as_view(), name="auth-login"),
    path("auth/refresh/", api.RefreshView.as_view(), name="auth-refresh"),
    path("auth/logout/", api.LogoutView.as_view(), name="auth-logout"),
    path("auth/guest/", api.GuestView.as_view(), name="auth-guest"),
    path("auth/claim/", api.ClaimView.as_view(), name="auth-claim"),
    path("me/", api.MeView.as_view(), name="me"),
    path("me/settings/", api.MySettingsView.as_view(), name="me-settings"),
]
