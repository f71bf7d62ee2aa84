"""Reads of tenancy data."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User
from django.db import connections
from django.db.models import QuerySet
from django.db.models.expressions import Col

from adplatform.models import ApiKey, Membership, Organization


def list_memberships(*, user: User | AnonymousUser) -> QuerySet[Membership]:
    if not user.is_authenticated:
        return Membership.objects.none()
    return Membership.objects.filter(user=user).select_related("organization")


def get_membership(*, user: User | AnonymousUser, organization_id: int) -> Membership | None:
    """The user's membership of that organization, or None if they are not a member."""
    return list_memberships(user=user).filter(organization_id=organization_id).first()


def list_organizations_for_user(*, user: User | AnonymousUser) -> QuerySet[Organization]:
    if not user.is_authenticated:
        return Organization.objects.none()
    return Organization.objects.filter(memberships__user=user)


def list_api_keys(organization: Organization) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(organization=organization)


def get_active_api_key(*, key_hash: str) -> ApiKey | None:
    """The unrevoked key with this hash, its organization loaded; None if there is none.

    Every API request calls this, so its SQL is written once per process: building and
    compiling the equivalent queryset cost several times the query itself.
    """
    connection = connections[ApiKey.objects.db]
    lookup = _active_api_key_lookup(connection.alias)
    with connection.cursor() as cursor:
        cursor.execute(lookup.sql, [key_hash])
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    for position, col in lookup.converted_columns:
        converters = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        for converter in converters:
            values[position] = converter(values[position], col, connection)
    split = len(lookup.key_fields)
    api_key = ApiKey.from_db(connection.alias, lookup.key_fields, values[:split])
    api_key.organization = Organization.from_db(
        connection.alias, lookup.organization_fields, values[split:]
    )
    return api_key


@dataclass(frozen=True)
class _ActiveApiKeyLookup:
    """The SQL of `ApiKey.objects.select_related("organization").filter(key_hash=…,
    revoked_at__isnull=True)`, and which of its columns the ORM would convert."""

    sql: str
    key_fields: list[str]
    organization_fields: list[str]
    converted_columns: list[tuple[int, Col]]  # e.g. SQLite returns date-times as text


@functools.cache
def _active_api_key_lookup(alias: str) -> _ActiveApiKeyLookup:
    connection = connections[alias]
    quote = connection.ops.quote_name
    key_fields = list(ApiKey._meta.concrete_fields)
    organization_fields = list(Organization._meta.concrete_fields)
    key_table, organization_table = ApiKey._meta.db_table, Organization._meta.db_table
    cols = [field.get_col(key_table) for field in key_fields] + [
        field.get_col(organization_table) for field in organization_fields
    ]

    def column(table: str, name: str) -> str:
        return f"{quote(table)}.{quote(name)}"

    sql = (
        f"SELECT {', '.join(column(col.alias, col.target.column) for col in cols)}"
        f" FROM {quote(key_table)} INNER JOIN {quote(organization_table)}"
        f" ON {column(key_table, ApiKey._meta.get_field('organization').column)}"
        f" = {column(organization_table, Organization._meta.pk.column)}"
        f" WHERE {column(key_table, ApiKey._meta.get_field('key_hash').column)} = %s"
        f" AND {column(key_table, ApiKey._meta.get_field('revoked_at').column)} IS NULL"
    )
    return _ActiveApiKeyLookup(
        sql=sql,
        key_fields=[field.attname for field in key_fields],
        organization_fields=[field.attname for field in organization_fields],
        converted_columns=[
            (position, col)
            for position, col in enumerate(cols)
            if connection.ops.get_db_converters(col) or col.get_db_converters(connection)
        ],
    )
