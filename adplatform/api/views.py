"""Base classes every API view builds on, so none can forget the organization."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import Model, QuerySet
from rest_framework import mixins, viewsets
from rest_framework.exceptions import NotAuthenticated, NotFound

from adplatform.api.tenancy import ApiAccess, resolve_api_access
from adplatform.models import Organization

MAX_ID = 2**63 - 1


class OrganizationScopedMixin:
    """Resolves the caller's organization; subclasses implement `get_scoped_queryset`.

    Overriding `get_queryset` is refused at class creation: the only way to reach
    unscoped rows is a method whose name says so (`dangerously_get_unscoped_queryset`).
    """

    lookup_value_regex: ClassVar[str] = r"[0-9]+"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__:
            raise TypeError(
                f"{cls.__name__} overrides get_queryset; implement get_scoped_queryset(organization)."
            )

    @property
    def access(self) -> ApiAccess:
        access = resolve_api_access(self.request)  # type: ignore[attr-defined]
        if access is None:
            raise NotAuthenticated()
        return access

    @property
    def organization(self) -> Organization:
        return self.access.organization

    def get_scoped_queryset(self, organization: Organization) -> QuerySet[Any]:
        raise NotImplementedError

    def get_queryset(self) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):
            return self.dangerously_get_unscoped_queryset().none()
        return self.get_scoped_queryset(self.organization)

    def get_object(self) -> Any:
        lookup = self.kwargs.get(self.lookup_url_kwarg or self.lookup_field)  # type: ignore[attr-defined]
        # Larger than a 64-bit key: PostgreSQL would raise, so answer as for any unknown id.
        if lookup is not None and str(lookup).isdigit() and int(lookup) > MAX_ID:
            raise NotFound()
        return super().get_object()  # type: ignore[misc]

    def dangerously_get_unscoped_queryset(self) -> QuerySet[Any]:
        model: type[Model] = self.queryset.model  # type: ignore[attr-defined]
        return model._default_manager.all()


class ScopedReadOnlyViewSet(
    OrganizationScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    pass
