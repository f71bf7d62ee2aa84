"""Which Meta objects and insights rows are Instagram's.

Placement lives on the ad set's `targeting.publisher_platforms`; an ad set without it uses
automatic (Advantage+) placements, which include Instagram. Insights broken down by
`publisher_platform` give Instagram's own numbers in the "instagram" rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

INSTAGRAM = "instagram"


def delivers_on_instagram(ad_set: Mapping[str, Any]) -> bool:
    targeting = ad_set.get("targeting")
    if not isinstance(targeting, dict):
        return True
    platforms = targeting.get("publisher_platforms")
    if not platforms:
        return True  # automatic placements
    return INSTAGRAM in [str(platform).lower() for platform in platforms]


def is_instagram_row(row: Mapping[str, Any]) -> bool:
    return str(row.get("publisher_platform", "")).lower() == INSTAGRAM
