"""Ad copy length limits per platform and field, in characters.

Values are the platforms' published ad specifications (where a platform states a
"recommended" length before truncation and a larger hard maximum, the recommended one is
used, because copy past it is cut off on most placements). Sources:
- Meta / Instagram: Meta Ads Guide, image and video ads (facebook.com/business/ads-guide):
  primary text 125, headline 40, description 30.
- Google Ads responsive search ads (support.google.com/google-ads/answer/7684791):
  headline 30, description 90.
- TikTok ad specs (ads.tiktok.com/help, "Auction In-Feed Ads"): ad text 100, display name 40.
- LinkedIn single image ads (linkedin.com/help/lms, ad specs): introductory text 150
  (recommended), headline 70 (recommended).
- X (business.x.com, ad specs): post text 280, website card headline 70.
- Snapchat single image or video ads (businesshelp.snapchat.com): headline 34, brand name 25.
- Pinterest (help.pinterest.com, product specs): title 100, description 500.
Re-check these when a platform changes its specs; tests hold every generated variant to them.
"""

from __future__ import annotations

PLATFORM_TEXT_LIMITS: dict[str, dict[str, int]] = {
    "meta": {"primary_text": 125, "headline": 40, "description": 30},
    "instagram": {"primary_text": 125, "headline": 40, "description": 30},
    "google": {"headline": 30, "description": 90},
    "tiktok": {"primary_text": 100, "headline": 40},
    "linkedin": {"primary_text": 150, "headline": 70},
    "x": {"primary_text": 280, "headline": 70},
    "snapchat": {"headline": 34, "brand_name": 25},
    "pinterest": {"headline": 100, "description": 500},
}

# The ad format each platform's limits above come from (the sources in the docstring).
PLATFORM_FORMATS: dict[str, dict[str, str]] = {
    "meta": {"image_video": "Image or video ad (feed)"},
    "instagram": {"image_video": "Image or video ad (feed)"},
    "google": {"responsive_search": "Responsive search ad"},
    "tiktok": {"in_feed": "In-feed ad"},
    "linkedin": {"single_image": "Single image ad"},
    "x": {"promoted_post": "Promoted post with website card"},
    "snapchat": {"single_image_video": "Single image or video ad"},
    "pinterest": {"standard_pin": "Standard pin"},
}


def limits_for(platform: str) -> dict[str, int]:
    try:
        return PLATFORM_TEXT_LIMITS[platform]
    except KeyError:
        raise ValueError(f"No copy limits known for platform {platform!r}.") from None


def violations(platform: str, fields: dict[str, str]) -> list[str]:
    """Fields that are unknown for the platform or longer than its limit."""
    limits = limits_for(platform)
    problems = []
    for name, text in fields.items():
        if name not in limits:
            problems.append(f"{name}: not a {platform} copy field")
        elif len(text) > limits[name]:
            problems.append(f"{name}: {len(text)} characters, limit {limits[name]}")
    return problems


def fit_to(text: str, limit: int) -> str:
    """Shorten on a word boundary to fit `limit` (no ellipsis: it would cost characters)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(" ,;:–—-")
    return cut or text[:limit]
