from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from adplatform.models import Organization, Role
from adplatform.services import create_api_key


class Command(BaseCommand):
    help = "Create an API key for an organization and print it (it is shown only once)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--org", required=True, help="Organization slug.")
        parser.add_argument("--name", required=True, help="What the key is for.")
        parser.add_argument("--role", default=Role.MEMBER, choices=Role.values)

    def handle(self, *args: Any, **options: Any) -> None:
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise CommandError(f"No organization with slug {options['org']!r}.")
        issued = create_api_key(
            organization=organization, name=options["name"], role=options["role"]
        )
        self.stderr.write(
            f"Created key {issued.api_key.prefix}… ({issued.api_key.role}) for {organization.slug}. "
            "Store it now; it cannot be shown again."
        )
        self.stdout.write(issued.raw_key)
