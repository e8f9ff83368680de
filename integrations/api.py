"""HTTP endpoints of webhooks: validate, call, serialize."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations import selectors, services
from integrations.serializers import (
    WebhookCreatedSerializer,
    WebhookDeliverySerializer,
    WebhookInput,
    WebhookSerializer,
)
from pomodoro.pagination import paginated_response
from pomodoro.schema import NOT_FOUND, PAGE_PARAMETERS, invalid, paginated, problem
from pomodoro.validation import validated

WEBHOOK_NOT_FOUND = problem("No such webhook (`not_found`).", NOT_FOUND)
ID_PARAMETER = OpenApiParameter("webhook_id", OpenApiTypes.INT, OpenApiParameter.PATH)


class WebhookListView(APIView):
    @extend_schema(
        operation_id="webhooks_list",
        parameters=PAGE_PARAMETERS,
        responses={200: paginated(WebhookSerializer)},
        tags=["webhooks"],
        summary="Your webhook endpoints",
    )
    def get(self, request):
        webhooks = selectors.webhook_list(user=request.user)
        return paginated_response(self, request, webhooks, WebhookSerializer, ("id",))

    @extend_schema(
        request=WebhookInput,
        responses={201: WebhookCreatedSerializer, 400: invalid()},
        tags=["webhooks"],
        summary="Add an endpoint; the answer shows its signing secret, this once",
    )
    def post(self, request):
        webhook = services.webhook_create(
            user=request.user, **validated(WebhookInput, request.data)
        )
        return Response(WebhookCreatedSerializer(webhook).data, status=status.HTTP_201_CREATED)


class WebhookDetailView(APIView):
    @extend_schema(
        parameters=[ID_PARAMETER],
        responses={200: WebhookSerializer, 404: WEBHOOK_NOT_FOUND},
        tags=["webhooks"],
        summary="An endpoint",
    )
    def get(self, request, webhook_id):
        webhook = selectors.webhook_get(user=request.user, webhook_id=webhook_id)
        return Response(WebhookSerializer(webhook).data)

    @extend_schema(
        parameters=[ID_PARAMETER],
        request=WebhookInput,
        responses={200: WebhookSerializer, 400: invalid(), 404: WEBHOOK_NOT_FOUND},
        tags=["webhooks"],
        summary="Change an endpoint; `active: true` turns a disabled one on again",
    )
    def patch(self, request, webhook_id):
        changes = validated(WebhookInput, request.data, partial=True)
        webhook = services.webhook_update(user=request.user, webhook_id=webhook_id, **changes)
        return Response(WebhookSerializer(webhook).data)

    @extend_schema(
        parameters=[ID_PARAMETER],
        responses={204: None, 404: WEBHOOK_NOT_FOUND},
        tags=["webhooks"],
        summary="Delete an endpoint and its delivery log",
    )
    def delete(self, request, webhook_id):
        services.webhook_delete(user=request.user, webhook_id=webhook_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveryListView(APIView):
    @extend_schema(
        operation_id="webhooks_deliveries_list",
        parameters=[ID_PARAMETER, *PAGE_PARAMETERS],
        responses={200: paginated(WebhookDeliverySerializer), 404: WEBHOOK_NOT_FOUND},
        tags=["webhooks"],
        summary="The endpoint's deliveries, newest first",
    )
    def get(self, request, webhook_id):
        deliveries = selectors.delivery_list(user=request.user, webhook_id=webhook_id)
        return paginated_response(self, request, deliveries, WebhookDeliverySerializer, ("-id",))


class WebhookTestView(APIView):
    @extend_schema(
        parameters=[ID_PARAMETER],
        request=None,
        responses={202: None, 404: WEBHOOK_NOT_FOUND},
        tags=["webhooks"],
        summary="Send a `webhook.test` message to the endpoint (by the worker, shortly)",
    )
    def post(self, request, webhook_id):
        services.webhook_test(user=request.user, webhook_id=webhook_id)
        return Response(status=status.HTTP_202_ACCEPTED)
