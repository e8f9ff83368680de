from rest_framework.routers import SimpleRouter

from sessions_app import api

router = SimpleRouter()
router.register("projects", api.ProjectViewSet, basename="project")
router.register("tasks", api.TaskViewSet, basename="task")
router.register("sessions", api.SessionViewSet, basename="session")

urlpatterns = router.urls
