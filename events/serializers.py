from rest_framework import serializers

from events.models import Event


class EventSerializer(serializers.ModelSerializer):
    class Meta:
        model = Event
        fields = ["seq", "type", "at", "data"]


class EventPageSerializer(serializers.Serializer):
    results = EventSerializer(many=True)
    last_seq = serializers.IntegerField()


class RealtimeTicketSerializer(serializers.Serializer):
    ticket = serializers.CharField()
    expires_at = serializers.DateTimeField()


class EventFilterInput(serializers.Serializer):
    after = serializers.IntegerField(min_value=0, default=0)
