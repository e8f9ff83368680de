"""A URLconf for tests only: the service's URLs plus views that fail, to see what a
failure answers (tests/test_security.py, tests/test_faults.py)."""

from django.db import connection, transaction
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from pomodoro.urls import urlpatterns as service_urlpatterns

SECRET_TEXT = "secret-detail-in-the-exception"


class FailingDrfView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        raise RuntimeError(f"{SECRET_TEXT}: SELECT password FROM accounts_user")


def failing_django_view(request):
    raise RuntimeError(f"{SECRET_TEXT}: SELECT password FROM accounts_user")


class BadSqlView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT '{SECRET_TEXT}' FROM no_such_table")


class StatementTimeoutView(APIView):
    """A query PostgreSQL cancels (57014): the server answered, it is no outage."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = '1ms'")
            cursor.execute(f"SELECT pg_sleep(0.1), '{SECRET_TEXT}'")


class ConnectionTerminatedView(APIView):
    """PostgreSQL ends the connection under a query (57P01), as when it shuts down."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")


urlpatterns = [
    path("api/v1/test-only/drf-view-fails/", FailingDrfView.as_view()),
    path("api/v1/test-only/django-view-fails/", failing_django_view),
    path("api/v1/test-only/bad-sql/", BadSqlView.as_view()),
    path("api/v1/test-only/statement-timeout/", StatementTimeoutView.as_view()),
    path("api/v1/test-only/connection-terminated/", ConnectionTerminatedView.as_view()),
    # before the service's catch-all for unknown /api/ paths
    *service_urlpatterns,
]
