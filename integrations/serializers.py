"""Bodies and answers of the webhook endpoints."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from integrations.models import Webhook, WebhookDelivery
from integrations.services import ALL_EVENTS, WEBHOOK_EVENT_TYPES
from integrations.targets import URL_MAX_LENGTH

EVENT_TYPE_CHOICES = (ALL_EVENTS, *sorted(WEBHOOK_EVENT_TYPES))
NOT_A_LIST = 'Expected a list of items but got type "{type}".'


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "string", "enum": list(EVENT_TYPE_CHOICES)},
        "minItems": 1,
        "maxItems": len(EVENT_TYPE_CHOICES),
    }
)
class EventTypesField(serializers.Field):
    """A list of event types, or ["*"]. Its errors are one flat list of messages, as the
    contract's `errors` are ({field: [message, ...]}), where a ListField would answer
    them by item index."""

    default_error_messages = {
        "not_a_list": NOT_A_LIST,
        "empty": "This list may not be empty.",
        "too_long": f"Ensure this field has no more than {len(EVENT_TYPE_CHOICES)} elements.",
    }

    def to_internal_value(self, data):
        if not isinstance(data, list):
            self.fail("not_a_list", type=type(data).__name__)
        if not data:
            self.fail("empty")
        if len(data) > len(EVENT_TYPE_CHOICES):
            self.fail("too_long")
        errors = [
            f"Item {index}: not a string."
            if not isinstance(item, str)
            else f'Item {index}: "{item[:50]}" is not an event type, nor "*".'
            for index, item in enumerate(data)
            if not isinstance(item, str) or item not in EVENT_TYPE_CHOICES
        ]
        if errors:
            raise serializers.ValidationError(errors)
        return data

    def to_representation(self, value):
        return value


class WebhookSerializer(serializers.ModelSerializer):
    event_types = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = Webhook
        fields = [
            "id",
            "url",
            "event_types",
            "active",
            "created_at",
            "failure_count",
            "disabled_at",
        ]
        read_only_fields = fields


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text="`whsec_...`: signs every delivery. Shown this once; store it now.",
    )

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookInput(serializers.Serializer):
    url = serializers.CharField(
        max_length=URL_MAX_LENGTH,
        help_text="https, resolving to public addresses (checked at every connection).",
    )
    event_types = EventTypesField(
        default=[ALL_EVENTS], help_text='Event types to deliver, or ["*"] for all.'
    )
    active = serializers.BooleanField(default=True)


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_seq",
            "type",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "next_attempt_at",
            "delivered_at",
        ]
        read_only_fields = fields
