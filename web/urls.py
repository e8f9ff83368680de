from django.urls import path

from web import views

urlpatterns = [
    path("", views.app, name="web-app"),
    # The reset email's link (accounts.services.password_reset_request).
    path("reset-password/", views.app, name="web-reset-password"),
]
