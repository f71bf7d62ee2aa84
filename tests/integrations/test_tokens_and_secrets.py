from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection as db
from django.test import Client
from django.utils import timezone

from adplatform.fields import reveal
from adplatform.models import Organization
from campaigns.models import SyncRun, SyncStatus
from campaigns.services.sync import sync_connection
from integrations.models import Connection, ConnectionStatus
from tests.adplatform.factories import UserFactory
from tests.campaigns.sync_helpers import connect
from tests.integrations.factories import FakeConnectionFactory
from tests.integrations.fake import PLATFORMS

pytestmark = pytest.mark.django_db

SINCE = dt.date(2026, 3, 8)


def test_a_token_about_to_expire_is_refreshed_before_the_sync_and_stored(
    organization: Organization,
) -> None:
    connection = FakeConnectionFactory(
        organization=organization, expires_at=timezone.now() + dt.timedelta(minutes=2)
    )
    connect(connection)
    remote = PLATFORMS[connection.extra["world"]]

    run = sync_connection(connection_id=connection.pk, since=SINCE).run

    connection.refresh_from_db()
    assert remote.refresh_calls == 1
    assert reveal(connection.access_token) == "fresh-token"
    assert connection.expires_at is not None and connection.expires_at > timezone.now()
    assert run is not None and run.status == SyncStatus.SUCCEEDED


def test_an_expired_token_is_refreshed_once_on_auth_expired(organization: Organization) -> None:
    connection = FakeConnectionFactory(organization=organization)
    connect(connection)
    remote = PLATFORMS[connection.extra["world"]]
    remote.valid_tokens = {"fresh-token"}  # the platform revoked good-token

    run = sync_connection(connection_id=connection.pk, since=SINCE).run

    connection.refresh_from_db()
    assert remote.refresh_calls == 1
    assert (reveal(connection.access_token), connection.status) == (
        "fresh-token",
        ConnectionStatus.ACTIVE,
    )
    assert run is not None and run.status == SyncStatus.SUCCEEDED


def test_a_refused_refresh_marks_the_connection_for_reauthorization_and_reports_it(
    organization: Organization, caplog: pytest.LogCaptureFixture, django_capture_on_commit_callbacks
) -> None:
    connection = FakeConnectionFactory(organization=organization)
    connect(connection)
    remote = PLATFORMS[connection.extra["world"]]
    remote.valid_tokens = set()
    remote.refresh_tokens = {}

    with (
        caplog.at_level(logging.WARNING, logger="campaigns.sync"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        run = sync_connection(connection_id=connection.pk, since=SINCE).run

    connection.refresh_from_db()
    assert remote.refresh_calls == 1  # once, not in a loop
    assert connection.status == ConnectionStatus.NEEDS_REAUTH
    assert "connect it again" in connection.status_detail
    assert run is not None and (run.status, run.is_resumable) == (SyncStatus.FAILED, False)
    assert "connect it again" in run.error
    assert any("sync problem" in r.getMessage() for r in caplog.records)
    # Until someone reconnects, syncs do not call the platform.
    calls = len(remote.calls)
    assert sync_connection(connection_id=connection.pk).skipped == "needs_reauth"
    assert len(remote.calls) == calls
    assert SyncRun.objects.count() == 1


def test_the_connection_admin_never_shows_a_token(organization: Organization) -> None:
    connection = FakeConnectionFactory(
        organization=organization, access_token="tok-SECRET-1", refresh_token="ref-SECRET-2",
        token_secret="sec-SECRET-3",
    )  # fmt: skip
    admin = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)

    pages = [
        client.get(f"/admin/integrations/connection/{connection.pk}/change/"),
        client.get("/admin/integrations/connection/"),
    ]

    for page in pages:
        assert page.status_code == 200
        assert "SECRET" not in page.content.decode()


def test_rotate_encryption_key_reencrypts_every_secret_with_the_newest_key(
    organization: Organization, settings: object
) -> None:
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = old_key  # type: ignore[attr-defined]
    connection = FakeConnectionFactory(organization=organization, access_token="rotate-me")

    settings.FIELD_ENCRYPTION_KEY = f"{new_key},{old_key}"  # type: ignore[attr-defined]
    out = StringIO()
    call_command("rotate_encryption_key", stdout=out)
    settings.FIELD_ENCRYPTION_KEY = new_key  # type: ignore[attr-defined]  # old key gone

    connection.refresh_from_db()
    assert reveal(connection.access_token) == "rotate-me"
    assert "integrations.Connection.access_token: 1" in out.getvalue()
    with db.cursor() as cursor:
        cursor.execute("SELECT access_token FROM integrations_connection")
        assert "rotate-me" not in cursor.fetchone()[0]


def test_web_and_api_show_connections_without_secrets(
    organization: Organization, web_client_for: Callable[..., Client], member: object
) -> None:
    FakeConnectionFactory(organization=organization, access_token="tok-hush-9")

    html = web_client_for(member).get("/integrations/").content.decode()

    assert "tok-hush" not in html
    assert reveal(Connection.objects.get().access_token) == "tok-hush-9"
