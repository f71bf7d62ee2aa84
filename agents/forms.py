"""Forms of the agents pages: tracked competitors, notes, the creative studio."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils import timezone

from adplatform.models import Organization
from agents.limits import PLATFORM_FORMATS
from campaigns.models import Campaign


def _split(value: str) -> list[str]:
    return [part for part in re.split(r"[\s,;]+", value or "") if part]


class CompetitorForm(forms.Form):
    name = forms.CharField(max_length=200)
    page_ids = forms.CharField(
        required=False, label="Facebook page ids", help_text="Up to 10, separated by commas."
    )
    search_terms = forms.CharField(
        required=False, max_length=100, help_text="Keywords, when you have no page ids."
    )
    countries = forms.CharField(
        initial="DE, FR", help_text="Where the ads ran: ISO codes, or ALL. The Ad Library "
        "lists non-political ads only for the EU and the UK.",
    )  # fmt: skip

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "page_ids": _split(data["page_ids"]),
            "search_terms": data["search_terms"],
            "countries": _split(data["countries"]),
        }


class NoteForm(forms.Form):
    competitor = forms.CharField(max_length=200)
    platform = forms.CharField(max_length=32, required=False)
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)
    observed_on = forms.DateField(initial=timezone.localdate, widget=forms.DateInput(
        attrs={"type": "date"}))  # fmt: skip


FORMAT_CHOICES = [
    (f"{platform}:{key}", f"{platform.title()} — {label}")
    for platform, formats in PLATFORM_FORMATS.items()
    for key, label in formats.items()
]


class StudioForm(forms.Form):
    campaign = forms.ModelChoiceField(queryset=Campaign.objects.none())
    platform_format = forms.ChoiceField(choices=FORMAT_CHOICES, label="Platform and format")
    count = forms.IntegerField(min_value=1, max_value=10, initial=5, label="Variants")

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["campaign"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Campaign.objects.filter(organization=organization).order_by("name")

    def params(self) -> dict[str, Any]:
        platform, ad_format = self.cleaned_data["platform_format"].split(":", 1)
        return {"campaign": self.cleaned_data["campaign"].pk, "platform": platform,
                "format": ad_format, "count": self.cleaned_data["count"]}  # fmt: skip
