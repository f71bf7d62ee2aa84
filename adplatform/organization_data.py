"""Export everything an organization owns as JSON, and delete it all.

Both walk every installed model with an `organization` foreign key, so a new app's
tables are included without touching this module. Secrets are left out of the export.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db import models, transaction

from adplatform.fields import EncryptedTextField
from adplatform.models import Organization

_EXCLUDED_FIELDS = {"key_hash"}


def _owned_models() -> list[type[models.Model]]:
    owned = []
    for model in apps.get_models():
        field = next((f for f in model._meta.fields if f.name == "organization"), None)
        if field is not None and field.related_model is Organization:
            owned.append(model)
    return sorted(owned, key=lambda m: m._meta.label)


def _exported_fields(model: type[models.Model]) -> list[str]:
    return [
        f.attname
        for f in model._meta.concrete_fields
        if not isinstance(f, EncryptedTextField) and f.name not in _EXCLUDED_FIELDS
    ]


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def export_organization_data(organization: Organization) -> Iterator[str]:
    """The organization as one JSON document, yielded in pieces (rows are streamed)."""
    header = {
        "id": organization.pk,
        "name": organization.name,
        "slug": organization.slug,
        "currency": organization.currency,
        "time_zone": organization.time_zone,
    }
    yield '{"organization": ' + json.dumps(header) + ', "tables": {'
    for index, model in enumerate(_owned_models()):
        fields = _exported_fields(model)
        yield ("," if index else "") + json.dumps(model._meta.label) + ": ["
        rows = model._default_manager.filter(organization=organization).values_list(*fields)
        for row_index, row in enumerate(rows.iterator(chunk_size=2000)):
            yield ("," if row_index else "") + json.dumps(
                dict(zip(fields, row, strict=True)), default=_default
            )
        yield "]"
    yield "}}"


@transaction.atomic
def delete_organization(*, organization: Organization) -> dict[str, int]:
    """Delete the organization and every row it owns; returns the counts per model."""
    _count, per_model = organization.delete()
    return dict(per_model)
