from __future__ import annotations

from django import forms

from campaigns.models import DeliveryStatus, Platform
from campaigns.selectors import CAMPAIGN_SORTS

PERIOD_CHOICES = [("7", "Last 7 days"), ("30", "Last 30 days"), ("90", "Last 90 days")]


class CampaignTableForm(forms.Form):
    """The campaigns table's query string; invalid values fall back to defaults."""

    q = forms.CharField(required=False, max_length=100, label="Search")
    platform = forms.ChoiceField(
        required=False, choices=[("", "All platforms"), *Platform.choices], label="Platform"
    )
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *DeliveryStatus.choices], label="Status"
    )
    period = forms.ChoiceField(required=False, choices=PERIOD_CHOICES, label="Period")
    sort = forms.ChoiceField(
        required=False,
        choices=[(key, key) for key in CAMPAIGN_SORTS]
        + [(f"-{key}", f"-{key}") for key in CAMPAIGN_SORTS],
    )
    page = forms.IntegerField(required=False, min_value=1)
