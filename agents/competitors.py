"""Tracked competitors and their Ad Library ads: the writes.

The Ad Library is read here, before an analysis, and stored as `CompetitorAd` rows, so a
review computes on stored data (repeatable, no network inside the analysis) and a failed
refresh leaves the last good read in place.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from adplatform.models import Organization
from agents.models import Competitor, CompetitorAd, CompetitorNote
from integrations.clients.errors import PlatformError
from integrations.providers.meta_ad_library.access import ad_library_client
from integrations.providers.meta_ad_library.client import MAX_PAGE_IDS, AdLibraryClient
from integrations.providers.meta_ad_library.records import LibraryAd, LibrarySearch

logger = logging.getLogger(__name__)

# How far back a refresh reads: long enough for launch cadence and long-running ads.
LOOKBACK_DAYS = 180
PAGE_ID = re.compile(r"^\d{1,30}$")
COUNTRY = re.compile(r"^([A-Z]{2}|ALL)$")


def clean_competitor_fields(
    *, name: str, page_ids: list[str], search_terms: str, countries: list[str]
) -> dict[str, Any]:
    """Normalized fields, or ValidationError with a message per field."""
    errors: dict[str, str] = {}
    name = name.strip()
    page_ids = [str(p).strip() for p in page_ids if str(p).strip()]
    countries = [str(c).strip().upper() for c in countries if str(c).strip()]
    search_terms = search_terms.strip()
    if not name:
        errors["name"] = "A name is required."
    if len(page_ids) > MAX_PAGE_IDS:
        errors["page_ids"] = f"At most {MAX_PAGE_IDS} page ids."
    elif any(not PAGE_ID.match(p) for p in page_ids):
        errors["page_ids"] = "Page ids are digits only."
    if not page_ids and not search_terms:
        errors["search_terms"] = "Give page ids or search terms."
    if len(search_terms) > 100:
        errors["search_terms"] = "At most 100 characters."
    if not countries:
        errors["countries"] = "Give at least one country (ISO code) or ALL."
    elif any(not COUNTRY.match(c) for c in countries):
        errors["countries"] = "Countries are two-letter ISO codes or ALL."
    if errors:
        raise ValidationError(errors)
    return {"name": name, "page_ids": list(dict.fromkeys(page_ids)),
            "search_terms": search_terms, "countries": list(dict.fromkeys(countries))}  # fmt: skip


def create_competitor(
    *,
    organization: Organization,
    name: str,
    page_ids: list[str] | None = None,
    search_terms: str = "",
    countries: list[str],
    is_active: bool = True,
) -> Competitor:
    values = clean_competitor_fields(
        name=name, page_ids=page_ids or [], search_terms=search_terms, countries=countries
    )
    if Competitor.objects.filter(organization=organization, name=values["name"]).exists():
        raise ValidationError({"name": "A competitor with this name is already tracked."})
    return Competitor.objects.create(organization=organization, is_active=is_active, **values)


def update_competitor(*, competitor: Competitor, **changes: Any) -> Competitor:
    current = {
        "name": competitor.name,
        "page_ids": competitor.page_ids,
        "search_terms": competitor.search_terms,
        "countries": competitor.countries,
    }
    is_active = changes.pop("is_active", competitor.is_active)
    values = clean_competitor_fields(**(current | changes))
    clash = Competitor.objects.filter(
        organization_id=competitor.organization_id, name=values["name"]
    ).exclude(pk=competitor.pk)
    if clash.exists():
        raise ValidationError({"name": "A competitor with this name is already tracked."})
    for name, value in values.items():
        setattr(competitor, name, value)
    competitor.is_active = is_active
    competitor.save()
    return competitor


def delete_competitor(*, competitor: Competitor) -> None:
    competitor.delete()


def create_competitor_note(
    *,
    organization: Organization,
    competitor: str,
    text: str,
    observed_on: dt.date,
    platform: str = "",
    user: Any = None,
) -> CompetitorNote:
    errors = {}
    if not competitor.strip():
        errors["competitor"] = "Name the competitor."
    if not text.strip():
        errors["text"] = "Write what you saw."
    if errors:
        raise ValidationError(errors)
    return CompetitorNote.objects.create(
        organization=organization,
        competitor=competitor.strip()[:200],
        platform=platform.strip()[:32],
        text=text.strip(),
        observed_on=observed_on,
        created_by=user,
    )


@dataclass
class RefreshResult:
    """What one refresh read, per competitor; errors are safe to show."""

    configured: bool
    ads: dict[str, int] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"configured": self.configured, "ads": self.ads, "errors": self.errors}


def refresh_competitor_ads(
    *,
    organization: Organization,
    client: AdLibraryClient | None = None,
    today: dt.date | None = None,
) -> RefreshResult:
    """Read each active competitor's ads of the last LOOKBACK_DAYS from the Ad Library.

    Two searches per competitor: every ad, then only the video ones (the Library has no
    media field in its answers, only a `media_type` filter), so formats are counted, not
    guessed. One competitor's failure (a bad page id, a rate limit) does not stop others.
    """
    competitors = list(Competitor.objects.filter(organization=organization, is_active=True))
    if not competitors:
        return RefreshResult(configured=True)
    client = client or ad_library_client(organization)
    if client is None:
        return RefreshResult(configured=False)
    today = today or timezone.localdate()
    result = RefreshResult(configured=True)
    for competitor in competitors:
        try:
            ads, video_ids = _read(client, competitor, today)
        except PlatformError as exc:
            message = client.scrub(str(exc))[:500]
            logger.warning(
                "ad library refresh failed for competitor %s: %s", competitor.pk, message
            )
            result.errors[competitor.name] = message
            Competitor.objects.filter(pk=competitor.pk).update(last_fetch_error=message)
            continue
        _store(competitor, ads, video_ids)
        result.ads[competitor.name] = len(ads)
    return result


def _read(
    client: AdLibraryClient, competitor: Competitor, today: dt.date
) -> tuple[list[LibraryAd], set[str]]:
    query = LibrarySearch(
        countries=tuple(competitor.countries),
        page_ids=tuple(competitor.page_ids),
        # Page ids name the advertiser exactly; keywords only when there are none.
        search_terms="" if competitor.page_ids else competitor.search_terms,
        active_status="ALL",
        delivery_date_min=today - dt.timedelta(days=LOOKBACK_DAYS),
    )
    limit = settings.ADPLATFORM_META_AD_LIBRARY_MAX_ADS
    ads = list(client.search(query, max_ads=limit))
    video = LibrarySearch(**{**query.__dict__, "media_type": "VIDEO"})
    video_ids = {ad.archive_id for ad in client.search(video, max_ads=limit)}
    return ads, video_ids


@transaction.atomic
def _store(competitor: Competitor, ads: list[LibraryAd], video_ids: set[str]) -> None:
    now = timezone.now()
    existing = {
        row.archive_id: row
        for row in CompetitorAd.objects.filter(
            competitor=competitor, archive_id__in=[a.archive_id for a in ads]
        )
    }
    new_rows, changed = [], []
    for ad in ads:
        values = {
            "page_id": ad.page_id,
            "page_name": ad.page_name[:300],
            "bodies": list(ad.bodies),
            "link_titles": list(ad.link_titles),
            "link_descriptions": list(ad.link_descriptions),
            "delivery_start": ad.delivery_start,
            "delivery_stop": ad.delivery_stop,
            "publisher_platforms": list(ad.publisher_platforms),
            "is_video": ad.archive_id in video_ids,
            "snapshot_url": ad.snapshot_url[:1000],
            "fetched_at": now,
        }
        row = existing.get(ad.archive_id)
        if row is None:
            new_rows.append(
                CompetitorAd(
                    organization_id=competitor.organization_id,
                    competitor=competitor,
                    archive_id=ad.archive_id,
                    **values,
                )
            )
        else:
            for name, value in values.items():
                setattr(row, name, value)
            changed.append(row)
    CompetitorAd.objects.bulk_create(new_rows)
    if changed:
        CompetitorAd.objects.bulk_update(changed, fields=list(values))
    competitor.last_fetched_at = now
    competitor.last_fetch_error = ""
    competitor.save(update_fields=["last_fetched_at", "last_fetch_error"])
