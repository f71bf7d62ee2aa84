from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from adplatform.models import Organization
from adplatform.organization_data import export_organization_data


class Command(BaseCommand):
    help = "Write all data of an organization as JSON to standard output or a file."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--org", required=True)
        parser.add_argument("--output", help="File to write (default: standard output).")

    def handle(self, *args: Any, **options: Any) -> None:
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise CommandError(f"No organization with slug {options['org']!r}.")
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8") as handle:
                for chunk in export_organization_data(organization):
                    handle.write(chunk)
            self.stderr.write(f"Wrote {options['output']}")
        else:
            for chunk in export_organization_data(organization):
                self.stdout.write(chunk, ending="")
