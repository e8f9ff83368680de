"""HTTP endpoints of the event log: replay after a seq, and tickets for the socket."""

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from events import selectors, tickets
from events.serializers import (
    EventFilterInput,
    EventPageSerializer,
    EventSerializer,
    RealtimeTicketSerializer,
)
from pomodoro.schema import invalid
from pomodoro.throttling import TicketIpThrottle, TicketUserThrottle, WriteUserThrottle
from pomodoro.validation import validated


class RealtimeTicketView(APIView):
    throttle_classes = [WriteUserThrottle, TicketUserThrottle, TicketIpThrottle]

    @extend_schema(
        request=None,
        responses={201: RealtimeTicketSerializer},
        tags=["events"],
        summary="A single-use ticket (valid 60 s) to open the events WebSocket",
    )
    def post(self, request):
        ticket, expires_at = tickets.realtime_ticket_create(user=request.user)
        body = RealtimeTicketSerializer({"ticket": ticket, "expires_at": expires_at}).data
        return Response(body, status=status.HTTP_201_CREATED)


class EventListView(APIView):
    @extend_schema(
        parameters=[EventFilterInput],
        responses={200: EventPageSerializer, 400: invalid()},
        tags=["events"],
        summary="Events after a seq, oldest first (at most 500 a call)",
    )
    def get(self, request):
        after = validated(EventFilterInput, request.query_params)["after"]
        events, last_seq = selectors.event_list(
            user_id=request.user.pk, after=after, limit=settings.EVENTS_PAGE_SIZE
        )
        return Response({"results": EventSerializer(events, many=True).data, "last_seq": last_seq})
