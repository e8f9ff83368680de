"""The web app's session sign-in (accounts/session_api.py), mounted at /session/."""

from django.urls import path

from accounts import session_api

urlpatterns = [
    path("signin/", session_api.SessionSignInView.as_view(), name="session-signin"),
    path("signup/", session_api.SessionSignUpView.as_view(), name="session-signup"),
    path("guest/", session_api.SessionGuestView.as_view(), name="session-guest"),
    path("signout/", session_api.SessionSignOutView.as_view(), name="session-signout"),
]
