"""The Ad Library client against a fake `ads_archive` speaking Meta's wire format."""

from __future__ import annotations

import datetime as dt
import json
import logging
from urllib.parse import parse_qs

import pytest
from pytest_httpserver import HTTPServer

from integrations.clients.errors import (
    AuthExpired,
    InvalidRequest,
    MalformedResponse,
    PermissionDenied,
    RateLimited,
)
from integrations.clients.ratelimit import InProcessRateLimiter
from integrations.config import PlatformConfig
from integrations.providers.meta_ad_library.client import AdLibraryClient
from integrations.providers.meta_ad_library.records import LibrarySearch
from tests.integrations.conftest import FakeClock, assert_no_secrets
from tests.integrations.fakes import json_response
from tests.integrations.meta_ad_library.fake import (
    TOKEN,
    VERSION,
    FakeAd,
    FakeAdLibrary,
    graph_error,
    rate_limited,
)

ARCHIVE = f"/{VERSION}/ads_archive"


@pytest.fixture
def library(httpserver: HTTPServer) -> FakeAdLibrary:
    fake = FakeAdLibrary(httpserver, page_size=2)
    for i in range(5):
        fake.add(
            FakeAd(
                id=f"10{i}",
                page_id="111",
                page_name="Rival Shoes",
                bodies=[f"Spring sale {i}: 20% off everything", "Free shipping on all orders"],
                titles=["Shop the sale"],
                start=dt.date(2026, 2, 1) + dt.timedelta(days=i),
                stop=dt.date(2026, 3, 1) if i == 4 else None,
                media="VIDEO" if i % 2 else "IMAGE",
            )
        )
    fake.add(FakeAd(id="900", page_id="222", page_name="Other", bodies=["Unrelated"]))
    return fake


def client_for(
    library: FakeAdLibrary, clock: FakeClock, limiter: InProcessRateLimiter, token: str = TOKEN
) -> AdLibraryClient:
    config = PlatformConfig(platform="meta_ad_library", api_base=library.base_url,
                            oauth_base="", api_version=VERSION, timeout=2.0)  # fmt: skip
    return AdLibraryClient(
        access_token=lambda: token, config=config, rate_limiter=limiter, sleep=clock.sleep
    )


def test_search_by_page_ids_reads_every_page_until_the_empty_one(
    library: FakeAdLibrary, clock: FakeClock, limiter: InProcessRateLimiter
) -> None:
    client = client_for(library, clock, limiter)

    ads = list(client.search(LibrarySearch(countries=("DE", "FR"), page_ids=("111",))))

    assert [ad.archive_id for ad in ads] == ["100", "101", "102", "103", "104"]
    first = ads[0]
    assert first.page_name == "Rival Shoes"
    assert first.bodies == ("Spring sale 0: 20% off everything", "Free shipping on all orders")
    assert first.link_titles == ("Shop the sale",)
    assert first.link_descriptions == ()
    assert first.delivery_start == dt.date(2026, 2, 1)
    assert first.is_active and not ads[4].is_active
    assert ads[4].delivery_stop == dt.date(2026, 3, 1)
    assert first.publisher_platforms == ("facebook", "instagram")
    # 5 ads at 2 a page: 3 pages with ads, then the empty page that ends the results.
    searches = library.searches()
    assert len(searches) == 4
    query = parse_qs(searches[0].query_string.decode())
    assert json.loads(query["ad_reached_countries"][0]) == ["DE", "FR"]
    assert json.loads(query["search_page_ids"][0]) == ["111"]
    assert query["ad_active_status"] == ["ALL"]
    assert "ad_snapshot_url" in query["fields"][0].split(",")
    assert "access_token" not in query
    assert searches[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert "after" in parse_qs(searches[1].query_string.decode())


def test_search_terms_and_media_type_filter_on_the_server(
    library: FakeAdLibrary, clock: FakeClock, limiter: InProcessRateLimiter
) -> None:
    client = client_for(library, clock, limiter)

    videos = list(
        client.search(
            LibrarySearch(countries=("ALL",), search_terms="spring sale", media_type="VIDEO")
        )
    )

    assert [ad.archive_id for ad in videos] == ["101", "103"]
    query = parse_qs(library.searches()[0].query_string.decode())
    assert query["search_terms"] == ["spring sale"] and query["media_type"] == ["VIDEO"]


def test_max_ads_stops_reading_pages(
    library: FakeAdLibrary, clock: FakeClock, limiter: InProcessRateLimiter
) -> None:
    client = client_for(library, clock, limiter)

    ads = list(client.search(LibrarySearch(countries=("DE",), page_ids=("111",)), max_ads=3))

    assert len(ads) == 3
    assert len(library.searches()) == 2


def test_a_rate_limit_613_is_waited_out_and_the_search_resumes(
    library: FakeAdLibrary, clock: FakeClock, limiter: InProcessRateLimiter
) -> None:
    library.http.inject("GET", ARCHIVE, rate_limited())
    client = client_for(library, clock, limiter)

    ads = list(client.search(LibrarySearch(countries=("DE",), page_ids=("111",))))

    assert len(ads) == 5
    # Meta names no wait for 613: the client holds this key back its default pause.
    assert sum(clock.slept) >= AdLibraryClient.default_rate_limit_pause


def test_a_rate_limit_that_persists_is_raised(
    library: FakeAdLibrary, clock: FakeClock, limiter: InProcessRateLimiter
) -> None:
    library.http.inject("GET", ARCHIVE, rate_limited(), times=10)
    client = client_for(library, clock, limiter)

    with pytest.raises(RateLimited) as raised:
        list(client.search(LibrarySearch(countries=("DE",), page_ids=("111",))))

    assert raised.value.code == 613
    assert len(library.searches()) == AdLibraryClient.max_attempts


def test_identity_not_confirmed_is_a_permission_error(
    library: FakeAdLibrary, clock: FakeClock, limiter: InProcessRateLimiter
) -> None:
    library.http.inject(
        "GET",
        ARCHIVE,
        graph_error(10, "Application does not have permission for this action", subcode=2332002),
    )
    client = client_for(library, clock, limiter)

    with pytest.raises(PermissionDenied) as raised:
        list(client.search(LibrarySearch(countries=("DE",), page_ids=("111",))))

    assert "subcode 2332002" in str(raised.value)


def test_a_bad_token_is_auth_expired_and_never_logged(
    library: FakeAdLibrary,
    clock: FakeClock,
    limiter: InProcessRateLimiter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "revoked-token-91ab"
    client = client_for(library, clock, limiter, token=wrong)

    with pytest.raises(AuthExpired) as raised:
        list(client.search(LibrarySearch(countries=("DE",), page_ids=("111",))))

    assert_no_secrets(caplog, [wrong], str(raised.value))


def test_the_servers_parameter_error_is_an_invalid_request(
    library: FakeAdLibrary, clock: FakeClock, limiter: InProcessRateLimiter
) -> None:
    library.http.inject(
        "GET", ARCHIVE, graph_error(100, "(#100) Invalid parameter", subcode=2332004)
    )
    client = client_for(library, clock, limiter)

    with pytest.raises(InvalidRequest):
        list(client.search(LibrarySearch(countries=("DE",), page_ids=("111",))))


def test_a_cursor_served_twice_fails_instead_of_looping(
    library: FakeAdLibrary, clock: FakeClock, limiter: InProcessRateLimiter
) -> None:
    page = {
        "data": [{"id": "1", "page_id": "111"}],
        "paging": {"cursors": {"after": "same"}, "next": f"{library.base_url}{ARCHIVE}?after=same"},
    }
    library.http.inject("GET", ARCHIVE, json_response(page), times=3)
    client = client_for(library, clock, limiter)

    with pytest.raises(MalformedResponse):
        list(client.search(LibrarySearch(countries=("DE",), page_ids=("111",))))


def test_a_search_without_countries_or_target_is_refused_before_any_request(
    library: FakeAdLibrary, clock: FakeClock, limiter: InProcessRateLimiter
) -> None:
    client = client_for(library, clock, limiter)

    with pytest.raises(ValueError, match="ad_reached_countries"):
        list(client.search(LibrarySearch(countries=(), page_ids=("111",))))
    with pytest.raises(ValueError, match="page ids or by search terms"):
        list(client.search(LibrarySearch(countries=("DE",))))

    assert library.searches() == []
