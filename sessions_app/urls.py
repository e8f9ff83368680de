from django.urls import re_path
from rest_framework.routers import SimpleRouter

from sessions_app import api

router = SimpleRouter()
router.register("projects", api.ProjectViewSet, basename="project")
router.register("tasks", api.TaskViewSet, basename="task")
router.register("tags", api.TagViewSet, basename="tag")
router.register("sessions", api.SessionViewSet, basename="session")

urlpatterns = [
    *router.urls,
    re_path(
        r"^calendar/(?P<token>cal_[A-Za-z0-9_-]{1,100})\.ics$",
        api.CalendarFeedView.as_view(),
        name="calendar-feed",
    ),
]
