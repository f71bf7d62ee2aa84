"""Apply one rule file (YAML or JSON) to one or more organizations, all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from adplatform.models import Organization
from automation.rules_io import Format, load_rule_file
from automation.schema import RuleDefinitionError
from automation.services.imports import import_rules_into_many


class Command(BaseCommand):
    help = (
        "Create or update rules from a rule file in each organization given (matched by "
        "name). Nothing is written unless the file is valid for every organization."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="A rule file (YAML or JSON).")
        parser.add_argument("--org", required=True, help="Organization slug(s), comma-separated.")
        parser.add_argument("--dry-run", action="store_true", help="Validate and report only.")

    def handle(self, *args: Any, **options: Any) -> None:
        slugs = [slug.strip() for slug in options["org"].split(",") if slug.strip()]
        organizations = {o.slug: o for o in Organization.objects.filter(slug__in=slugs)}
        missing = [slug for slug in slugs if slug not in organizations]
        if missing:
            raise CommandError(f"No organization(s): {', '.join(missing)}.")
        path = Path(options["file"])
        try:
            text = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc
        fmt: Format = "json" if path.suffix.lower() == ".json" else "yaml"
        try:
            document = load_rule_file(text, format=fmt)
            results = import_rules_into_many(
                [organizations[slug] for slug in slugs], document=document,
                dry_run=options["dry_run"],
            )  # fmt: skip
        except RuleDefinitionError as exc:
            lines = [f"{path}: {', '.join(messages)}" for path, messages in exc.errors.items()]
            raise CommandError("The rule file is invalid:\n" + "\n".join(lines)) from exc
        prefix = "Would apply" if options["dry_run"] else "Applied"
        for result in results:
            self.stdout.write(
                f"{prefix} to {result.organization.slug}: created {result.count('created')}, "
                f"updated {result.count('updated')}, unchanged {result.count('unchanged')}."
            )
