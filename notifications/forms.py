from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms

from notifications.registry import Priority, type_choices


class NotificationFilterForm(forms.Form):
    type = forms.ChoiceField(required=False, choices=lambda: [("", "Any type"), *type_choices()])
    priority = forms.ChoiceField(required=False, choices=[("", "Any priority"), *Priority.choices])
    state = forms.ChoiceField(
        required=False, choices=[("", "All"), ("unread", "Unread"), ("read", "Read")]
    )


class SettingsForm(forms.Form):
    time_zone = forms.ChoiceField(
        choices=lambda: [(z, z) for z in sorted(zoneinfo.available_timezones())]
    )
    quiet_hours_start = forms.TimeField(
        required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    quiet_hours_end = forms.TimeField(
        required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    email_digest = forms.BooleanField(required=False, label="Daily digest for low-priority email")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("quiet_hours_start") is None) != (data.get("quiet_hours_end") is None):
            raise forms.ValidationError("Quiet hours need both a start and an end.")
        return data
