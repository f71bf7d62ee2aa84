from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from adplatform.models import Organization
from adplatform.organization_data import delete_organization


class Command(BaseCommand):
    help = "Delete an organization and everything it owns. Irreversible."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--org", required=True)
        parser.add_argument(
            "--confirm", required=True, help="Repeat the slug to confirm the deletion."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["confirm"] != options["org"]:
            raise CommandError("--confirm must repeat the organization's slug.")
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise CommandError(f"No organization with slug {options['org']!r}.")
        counts = delete_organization(organization=organization)
        total = sum(counts.values())
        self.stdout.write(self.style.SUCCESS(f"Deleted {options['org']}: {total} rows."))
