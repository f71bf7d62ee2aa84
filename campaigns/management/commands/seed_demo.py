from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.utils import timezone

from adplatform.models import Organization, Role
from adplatform.services import add_member, create_organization
from campaigns.demo import seed_demo_organization

DEMO_EMAIL = "demo@example.com"


class Command(BaseCommand):
    help = (
        "Create or refresh a demo organization, its owner and 90 days of data, synced from "
        "one sandbox connection per platform."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--org", default="demo", help="Organization slug (default: demo).")
        parser.add_argument("--name", default=None, help="Organization name for a new one.")
        parser.add_argument(
            "--seed", type=int, default=1, help="Sandbox seed; same seed, same simulated world."
        )
        parser.add_argument("--days", type=int, default=90)
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing if the organization exists."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        slug: str = options["org"]
        existing = Organization.objects.filter(slug=slug).first()
        if existing is not None and options["if_empty"]:
            self.stdout.write(f"Organization {slug!r} exists; leaving it as it is.")
        else:
            organization = existing or create_organization(
                name=options["name"] or f"{slug.replace('-', ' ').title()} Co.", slug=slug
            )
            # Not one transaction: the sync commits step by step, so an interrupted seed
            # continues where it stopped when run again.
            summary = seed_demo_organization(
                organization,
                seed=options["seed"],
                days=options["days"],
                today=timezone.localdate(),
            )
            self.stdout.write(
                self.style.SUCCESS(
                    f"Seeded {organization.slug}: {summary.accounts} ad accounts, "
                    f"{summary.campaigns} campaigns, {summary.ads} ads, {summary.metric_rows} metric rows."
                )
            )
        user = self._ensure_demo_user()
        add_member(organization=Organization.objects.get(slug=slug), user=user, role=Role.OWNER)
        self.stdout.write(f"Demo login: {DEMO_EMAIL} / {settings.DEMO_PASSWORD}")

    def _ensure_demo_user(self) -> Any:
        user_model = get_user_model()
        user, created = user_model._default_manager.get_or_create(
            username="demo",
            defaults={"email": DEMO_EMAIL, "first_name": "Demo", "last_name": "User"},
        )
        if created or not user.check_password(settings.DEMO_PASSWORD):
            user.set_password(settings.DEMO_PASSWORD)
            user.save()
        return user
