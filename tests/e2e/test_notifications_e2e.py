"""Browser test: a notification raised on the server shows as a toast and in the bell, live.

Runs the real ASGI application under uvicorn (HTTP and WebSocket in one process) against
the test database, and drives Debian's Chromium with Playwright.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

# Playwright's sync API runs an event loop in this thread; the ORM calls here are plain setup.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).parent / "screenshots"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="Chromium is not installed (apt-get install chromium)"
    ),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def asgi_server(transactional_db: None, settings: object) -> Iterator[str]:
    """uvicorn serving adplatform.asgi in a thread of this process (shares the test database)."""
    import uvicorn

    from adplatform.asgi import application

    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            application, host="127.0.0.1", port=port, lifespan="off", log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_notification_raised_on_the_server_appears_as_toast_and_in_the_bell_without_reload(
    asgi_server: str, settings: object
) -> None:
    from django.test import Client
    from playwright.sync_api import expect, sync_playwright

    from adplatform.models import Role
    from adplatform.services import create_api_key
    from tests.adplatform.factories import MembershipFactory, OrganizationFactory

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # type: ignore[attr-defined]
    acme = OrganizationFactory(name="Acme Retail", slug="acme")
    globex = OrganizationFactory(name="Globex Travel", slug="globex")
    member = MembershipFactory(
        organization=acme, role=Role.OWNER, user__first_name="Dana", user__last_name="Ops"
    )
    acme_key = create_api_key(organization=acme, name="erp").raw_key
    globex_key = create_api_key(organization=globex, name="erp").raw_key
    client = Client()
    client.force_login(member.user)
    session_id = client.cookies["sessionid"].value

    def raise_via_api(key: str, title: str, message: str, priority: str) -> None:
        response = requests.post(
            f"{asgi_server}/api/v1/notifications/",
            json={
                "type": "system_update",
                "priority": priority,
                "data": {"title": title, "message": message, "url": "/notifications/"},
            },
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        )
        assert response.status_code == 201, response.text

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 720})
            context.add_cookies([{"name": "sessionid", "value": session_id, "url": asgi_server}])
            page = context.new_page()
            page.goto(f"{asgi_server}/campaigns/")
            bell = page.get_by_test_id("notification-bell")
            expect(bell).to_have_attribute("data-live", "open", timeout=10_000)
            count = page.get_by_test_id("notification-count")
            expect(count).to_be_hidden()

            # Another organization's notification must not reach this page.
            raise_via_api(globex_key, "Globex only", "Not for Acme", "urgent")
            raise_via_api(
                acme_key, "Product feed imported", "2,310 products updated from the ERP.", "high"
            )

            toast = page.get_by_test_id("notification-toast")
            expect(toast).to_have_count(1, timeout=10_000)
            expect(toast).to_contain_text("Product feed imported")
            expect(toast).to_contain_text("Acme Retail")
            expect(count).to_have_text("1")
            expect(count).to_be_visible()
            expect(page.get_by_text("Globex only")).to_have_count(0)

            # A low-priority one counts in the bell but pops no toast.
            raise_via_api(acme_key, "Weekly report ready", "Your report is available.", "low")
            expect(count).to_have_text("2", timeout=10_000)
            expect(toast).to_have_count(1)

            SCREENSHOTS.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "notification_toast.png"))

            # The centre lists both; "mark all read" clears the bell live.
            page.goto(f"{asgi_server}/notifications/")
            expect(page.get_by_test_id("notification-list")).to_contain_text("Weekly report ready")
            expect(page.get_by_test_id("notification-list")).not_to_contain_text("Globex only")
            page.get_by_test_id("mark-all-read").click()
            expect(page.get_by_test_id("notification-count")).to_be_hidden(timeout=10_000)
            expect(page.get_by_test_id("centre-unread")).to_have_text("0")
            page.screenshot(path=str(SCREENSHOTS / "notification_centre.png"))
        finally:
            browser.close()
