from django.urls import include, path

from bench.reference import views
from pomodoro.urls import handler400, handler500  # noqa: F401 (read from the ROOT_URLCONF)

urlpatterns = [
    path("bench/reference/sessions/", views.ReferenceCreateView.as_view()),
    path(
        "bench/reference/sessions/<int:pk>/<str:action>/",
        views.ReferenceTransitionView.as_view(),
    ),
    path("", include("pomodoro.urls")),
]
