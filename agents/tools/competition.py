"""What competitors' Ad Library ads show, computed: themes, offers, formats, long-running
ads and launch cadence. Plain functions over stored ads; every figure is a count or a date.

Competitor text is untrusted: it is matched here, never followed, and reaches a model only
inside a data block.
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections import Counter
from dataclasses import dataclass
from typing import Any

THEMES = {
    "discounts": r"\b(\d+ ?%|discount|sale|off|deal|promo)",
    "free shipping": r"free (shipping|delivery)",
    "new launches": r"\b(new|launch|introduc)",
    "video": r"\b(video|reel|ugc)\b",
    "urgency": r"\b(limited|last chance|ends|today only|hurry)\b",
    "social proof": r"\b(best ?seller|reviews?|rated|loved by|customers)\b",
    "sustainability": r"\b(sustainab|eco|recycled|organic)",
}
# Offers, normalized so that "20% OFF" and "20 % off" count as one offer.
OFFERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("percent off", re.compile(r"(\d{1,2}) ?% ?off", re.IGNORECASE)),
    ("free shipping", re.compile(r"free (shipping|delivery)", re.IGNORECASE)),
    ("free trial", re.compile(r"free trial", re.IGNORECASE)),
    ("buy one get one", re.compile(r"\b(bogo|buy one,? get one)\b", re.IGNORECASE)),
    ("price point", re.compile(r"(?:[$€£]\s?(\d+(?:[.,]\d{2})?)|(\d+(?:[.,]\d{2})?)\s?[€£])")),
)
LONG_RUNNING_DAYS = 30
CADENCE_WEEKS = 12


@dataclass(frozen=True)
class CompetitorAdView:
    """The parts of a stored Ad Library ad the analysis reads."""

    competitor: str
    archive_id: str
    text: str
    start: dt.date | None
    stop: dt.date | None
    platforms: tuple[str, ...]
    is_video: bool
    versions: int

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> CompetitorAdView:
        start, stop = row.get("start"), row.get("stop")
        return cls(
            competitor=str(row["competitor"]),
            archive_id=str(row["archive_id"]),
            text=str(row.get("text") or ""),
            start=dt.date.fromisoformat(start) if isinstance(start, str) else start,
            stop=dt.date.fromisoformat(stop) if isinstance(stop, str) else stop,
            platforms=tuple(row.get("platforms") or ()),
            is_video=bool(row.get("is_video")),
            versions=int(row.get("versions") or 1),
        )

    def running_days(self, as_of: dt.date) -> int | None:
        if self.start is None:
            return None
        return ((self.stop or as_of) - self.start).days + 1

    def is_active(self, as_of: dt.date) -> bool:
        return self.stop is None or self.stop >= as_of


def theme_counts(texts: list[str]) -> Counter[str]:
    """Ads mentioning each theme (an ad counts once per theme)."""
    counts: Counter[str] = Counter()
    for text in texts:
        for theme, pattern in THEMES.items():
            if re.search(pattern, text, re.IGNORECASE):
                counts[theme] += 1
    return counts


def offer_counts(texts: list[str]) -> Counter[str]:
    """Ads per normalized offer: "20% off", "free shipping", "from 49.00", ..."""
    counts: Counter[str] = Counter()
    for text in texts:
        found: set[str] = set()
        for kind, pattern in OFFERS:
            for match in pattern.finditer(text):
                if kind == "percent off":
                    found.add(f"{int(match.group(1))}% off")
                elif kind == "price point":
                    amount = (match.group(1) or match.group(2)).replace(",", ".")
                    found.add(f"price {float(amount):.2f}")
                else:
                    found.add(kind)
        counts.update(found)
    return counts


def launch_cadence(starts: list[dt.date], as_of: dt.date, weeks: int = CADENCE_WEEKS) -> dict:
    """New ads per week over the last `weeks` weeks (oldest first), with its mean and trend.

    Trend: launches per week in the last four weeks over the weeks before (None if the
    earlier weeks saw none).
    """
    per_week = [0] * weeks
    for start in starts:
        age = (as_of - start).days
        if 0 <= age < weeks * 7:
            per_week[weeks - 1 - age // 7] += 1
    recent = statistics.fmean(per_week[-4:])
    earlier = statistics.fmean(per_week[:-4]) if weeks > 4 else 0.0
    return {
        "per_week": per_week,
        "mean_per_week": round(statistics.fmean(per_week), 2),
        "recent_per_week": round(recent, 2),
        "trend": round(recent / earlier, 2) if earlier else None,
        "last_launch": max(starts).isoformat() if starts else None,
    }


def analyze_competitor(ads: list[CompetitorAdView], as_of: dt.date) -> dict[str, Any]:
    """One competitor's profile from its ads (all numbers counted from `ads`)."""
    texts = [ad.text for ad in ads]
    n = len(ads)
    active = [ad for ad in ads if ad.is_active(as_of)]
    long_running = sorted(
        (
            {"archive_id": ad.archive_id, "days": ad.running_days(as_of),
             "since": ad.start.isoformat() if ad.start else None, "text": ad.text[:160]}
            for ad in active
            if (ad.running_days(as_of) or 0) >= LONG_RUNNING_DAYS
        ),
        key=lambda row: -int(row["days"] or 0),
    )  # fmt: skip
    platforms: Counter[str] = Counter(p for ad in ads for p in ad.platforms)
    videos = sum(ad.is_video for ad in ads)
    multi = sum(ad.versions > 1 for ad in ads)
    return {
        "ads": n,
        "active_ads": len(active),
        "themes": {k: round(v / n, 3) for k, v in theme_counts(texts).most_common()} if n else {},
        "offers": dict(offer_counts(texts).most_common(8)),
        "formats": {
            "video_share": round(videos / n, 3) if n else None,
            "image_or_other_share": round((n - videos) / n, 3) if n else None,
            "multi_version_share": round(multi / n, 3) if n else None,
            "platforms": {k: round(v / n, 3) for k, v in platforms.most_common()},
        },
        "long_running": long_running[:5],
        "long_running_count": len(long_running),
        "cadence": launch_cadence([ad.start for ad in ads if ad.start], as_of),
    }
