from django.urls import path
from rest_framework.routers import SimpleRouter

from sessions_app import api

router = SimpleRouter()
router.register("projects", api.ProjectViewSet, basename="project")
router.register("tasks", api.TaskViewSet, basename="task")
router.register("sessions", api.SessionViewSet, basename="session")

urlpatterns = [
    path("events/", api.EventListView.as_view(), name="event-list"),
    path("realtime/ticket/", api.RealtimeTicketView.as_view(), name="realtime-ticket"),
    *router.urls,
]
