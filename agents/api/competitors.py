"""Tracked competitors (Meta Ad Library) and competitor notes over the API."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from adplatform.api.views import OrganizationScopedMixin
from adplatform.models import Organization
from agents import competitors as services
from agents.models import Competitor, CompetitorNote


class CompetitorSerializer(serializers.ModelSerializer):
    page_ids = serializers.ListField(
        child=serializers.RegexField(r"^\d{1,30}$", max_length=30), max_length=10, required=False
    )
    countries = serializers.ListField(
        child=serializers.RegexField(r"^([A-Za-z]{2}|ALL)$", max_length=3),
        min_length=1,
        max_length=60,
    )
    ad_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Competitor
        fields = [
            "id", "name", "page_ids", "search_terms", "countries", "is_active",
            "last_fetched_at", "last_fetch_error", "ad_count", "created_at",
        ]  # fmt: skip
        read_only_fields = ["last_fetched_at", "last_fetch_error", "ad_count", "created_at"]


class RefreshSerializer(serializers.Serializer):
    configured = serializers.BooleanField()
    ads = serializers.DictField(child=serializers.IntegerField())
    errors = serializers.DictField(child=serializers.CharField())  # type: ignore[assignment]


class CompetitorViewSet(OrganizationScopedMixin, viewsets.ModelViewSet):
    """Competitors tracked in the Meta Ad Library: by page ids (≤10) or search terms, in
    the countries their ads reached. `POST .../refresh/` reads their ads now."""

    queryset = Competitor.objects.all()
    serializer_class = CompetitorSerializer
    ordering_fields = ["id", "name"]
    ordering = ["id"]

    def get_scoped_queryset(self, organization: Organization) -> QuerySet[Competitor]:
        return Competitor.objects.filter(organization=organization).annotate(ad_count=Count("ads"))

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        competitor = services.create_competitor(
            organization=self.organization, **serializer.validated_data
        )
        data = self.get_serializer(competitor).data
        return Response(data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer: Any) -> None:
        services.update_competitor(competitor=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance: Competitor) -> None:
        services.delete_competitor(competitor=instance)

    @extend_schema(request=None, responses=RefreshSerializer)
    @action(detail=False, methods=["post"])
    def refresh(self, request: Request) -> Response:
        result = services.refresh_competitor_ads(organization=self.organization)
        return Response(RefreshSerializer(result.as_dict()).data)


class CompetitorNoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = CompetitorNote
        fields = ["id", "competitor", "platform", "text", "observed_on", "created_at"]
        read_only_fields = ["created_at"]
        extra_kwargs = {"text": {"max_length": 5000}}


class CompetitorNoteViewSet(OrganizationScopedMixin, viewsets.ModelViewSet):
    """What users saw competitors do (ads, offers); the Competitive Analyst reads them."""

    queryset = CompetitorNote.objects.all()
    serializer_class = CompetitorNoteSerializer
    filterset_fields = ["competitor", "platform"]
    ordering_fields = ["id", "observed_on"]
    ordering = ["-observed_on", "-id"]

    def get_scoped_queryset(self, organization: Organization) -> QuerySet[CompetitorNote]:
        return CompetitorNote.objects.filter(organization=organization)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = self.access.membership
        note = services.create_competitor_note(
            organization=self.organization,
            user=membership.user if membership else None,
            **serializer.validated_data,
        )
        return Response(self.get_serializer(note).data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer: Any) -> None:
        serializer.save()
