from django.urls import path

from events import api

urlpatterns = [
    path("events/", api.EventListView.as_view(), name="event-list"),
    path("realtime/ticket/", api.RealtimeTicketView.as_view(), name="realtime-ticket"),
]
