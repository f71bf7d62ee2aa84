from __future__ import annotations

from rest_framework import serializers

from adplatform.models import Organization


class OrganizationSerializer(serializers.ModelSerializer[Organization]):
    class Meta:
        model = Organization
        fields = ["id", "name", "slug", "currency", "time_zone", "created_at"]
        read_only_fields = fields
