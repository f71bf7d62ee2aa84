"""Root fixtures: organizations, members, API clients, and the services the suite may need.

Services: with DATABASE_URL / REDIS_URL set, tests run on PostgreSQL / Redis. A test that
needs Redis and finds none is skipped with the reason, unless REQUIRE_SERVICES=1, where
that skip becomes a failure.
"""

from __future__ import annotations

import os
from collections.abc import Callable

# Tasks run inline in tests even when a broker is configured; must be set before Celery reads it.
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
os.environ.setdefault("ADPLATFORM_TESTING", "1")

import pytest  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from adplatform.models import Membership, Organization, Role  # noqa: E402
from adplatform.services import create_api_key  # noqa: E402
from tests.adplatform.factories import MembershipFactory, OrganizationFactory  # noqa: E402

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def require_service(reason: str) -> None:
    """Skip for a missing external service, or fail when services are required."""
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True, scope="session")
def _celery_tasks_run_inline() -> None:
    """pytest-django reads the settings before this file sets the variable above, so with
    REDIS_URL set Celery would otherwise send tests' tasks to the real broker."""
    from adplatform.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Throttle counters and cool-downs live in the cache and are keyed by row ids, which
    repeat from test to test; each test starts with an empty cache. The same goes for the
    per-process memos (notification template overrides, agent reports for rules)."""
    from django.core.cache import cache

    from agents import automation_hooks
    from notifications.selectors import clear_template_cache

    cache.clear()
    clear_template_cache()
    automation_hooks._REPORTS.clear()


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("REDIS_URL")
    if not url:
        require_service("REDIS_URL is not set; this test needs Redis")
    import redis

    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError as exc:
        require_service(f"Redis at REDIS_URL is unreachable: {exc}")
    return url


@pytest.fixture
def organization(db: None) -> Organization:
    return OrganizationFactory(name="Acme Retail", slug="acme")


@pytest.fixture
def other_organization(db: None) -> Organization:
    return OrganizationFactory(name="Globex Travel", slug="globex")


@pytest.fixture
def member(organization: Organization) -> Membership:
    return MembershipFactory(organization=organization, role=Role.MEMBER)


@pytest.fixture
def owner(organization: Organization) -> Membership:
    return MembershipFactory(organization=organization, role=Role.OWNER)


@pytest.fixture
def viewer(organization: Organization) -> Membership:
    return MembershipFactory(organization=organization, role=Role.VIEWER)


@pytest.fixture
def api_client_for(db: None) -> Callable[..., APIClient]:
    """An API client authenticated with a new key of `organization` and `role`."""

    def make(organization: Organization, role: str = Role.MEMBER) -> APIClient:
        issued = create_api_key(organization=organization, name=f"test {role}", role=role)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.raw_key}")
        return client

    return make


@pytest.fixture
def web_client_for(db: None) -> Callable[[Membership], object]:
    """A Django test client signed in as the membership's user, in that organization."""
    from django.test import Client

    from adplatform.middleware import SESSION_KEY

    def make(membership: Membership) -> Client:
        client = Client()
        client.force_login(membership.user)
        session = client.session
        session[SESSION_KEY] = membership.organization_id
        session.save()
        return client

    return make
