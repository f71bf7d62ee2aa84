"""Give a demo organization a few enabled rules from the gallery (run after seed_demo)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from adplatform.models import Organization
from automation.gallery import get_template
from automation.models import AutomationRule
from automation.services import create_rule

# Budget protection and the performance rules are enabled; the night pause would pause the
# whole demo every evening, so it is added switched off.
DEMO_RULES = {
    "budget-protection": True,
    "pause-high-cpa": True,
    "scale-winners": True,
    "rotate-fatigued-creatives": True,
    "night-pause": False,
}


class Command(BaseCommand):
    help = "Add the gallery's rules to a demo organization (idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--org", default="demo", help="Organization slug (default: demo).")

    def handle(self, *args: Any, **options: Any) -> None:
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise CommandError(f"No organization {options['org']!r}; run seed_demo first.")
        created = 0
        for slug, is_enabled in DEMO_RULES.items():
            template = get_template(slug)
            if AutomationRule.objects.filter(
                organization=organization, name=template["name"]
            ).exists():
                continue
            values = {k: template[k] for k in ("name", "type", "description", "frequency",
                                                "conditions", "actions", "guardrails")}  # fmt: skip
            create_rule(organization, user=None, values={**values, "is_enabled": is_enabled})
            created += 1
        self.stdout.write(f"Seeded {created} rule(s) for {organization.slug}.")
