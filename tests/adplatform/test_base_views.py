from __future__ import annotations

import pytest
from django.db.models import QuerySet

from adplatform.api.views import ScopedReadOnlyViewSet
from adplatform.models import Organization


def test_a_view_that_overrides_get_queryset_is_refused_at_import() -> None:
    with pytest.raises(TypeError, match="get_scoped_queryset"):

        class LeakyViewSet(ScopedReadOnlyViewSet):
            queryset = Organization.objects.all()

            def get_queryset(self) -> QuerySet[Organization]:
                return Organization.objects.all()
