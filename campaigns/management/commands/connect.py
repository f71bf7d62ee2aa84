from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from adplatform.models import Organization
from campaigns.services.connections import import_ad_accounts, list_reachable_accounts
from integrations.clients.errors import PlatformError
from integrations.models import SANDBOX
from integrations.records import TokenSet
from integrations.services import create_connection, create_sandbox_connection
from integrations.vocabulary import Platform


class Command(BaseCommand):
    help = (
        "Store a connection from an existing token and import the chosen (default: all "
        "reachable) ad accounts. Client credentials come from ADPLATFORM_<PLATFORM>_CLIENT_ID "
        "/ _CLIENT_SECRET. With --sandbox, a simulated account of that platform instead."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("platform", choices=Platform.values)
        parser.add_argument("--org", required=True, help="Organization slug.")
        parser.add_argument("--token", help="Access token (or set it in --token-file).")
        parser.add_argument("--token-file", help="Read the access token from this file.")
        parser.add_argument("--refresh-token", default="")
        parser.add_argument("--token-secret", default="", help="OAuth 1.0a token secret (X).")
        parser.add_argument(
            "--account", action="append", dest="accounts", help="External account id (repeat)."
        )
        parser.add_argument(
            "--extra", action="append", default=[], help="KEY=VALUE, e.g. login_customer_id=123"
        )
        parser.add_argument("--sandbox", action="store_true", help="Connect a sandbox account.")
        parser.add_argument("--seed", type=int, default=1, help="Sandbox seed.")

    def handle(self, *args: Any, **options: Any) -> None:
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise CommandError(f"No organization {options['org']!r}.")
        platform: str = options["platform"]
        token = options["token"]
        if options["token_file"]:
            with open(options["token_file"]) as handle:
                token = handle.read().strip()
        if not options["sandbox"] and not token:
            raise CommandError("Give --token or --token-file (or --sandbox).")
        extra = {}
        for item in options["extra"]:
            key, sep, value = item.partition("=")
            if not sep:
                raise CommandError(f"--extra expects KEY=VALUE, got {item!r}.")
            extra[key] = value
        try:
            with transaction.atomic():
                if options["sandbox"]:
                    connection = create_sandbox_connection(
                        organization=organization, platform=platform, seed=options["seed"]
                    )
                else:
                    connection = create_connection(
                        organization=organization,
                        platform=platform,
                        connector=platform,
                        token=TokenSet(
                            access_token=token,
                            refresh_token=options["refresh_token"],
                            token_secret=options["token_secret"],
                        ),
                        extra=extra,
                    )
                reachable = list_reachable_accounts(connection=connection)
                accounts = import_ad_accounts(
                    connection=connection, external_ids=options["accounts"], reachable=reachable
                )
        except LookupError as exc:  # no connector registered for the platform
            raise CommandError(str(exc)) from exc
        except (PlatformError, ValueError) as exc:
            raise CommandError(f"Not connected: {exc}") from exc
        kind = "sandbox" if connection.connector == SANDBOX else platform
        self.stdout.write(
            self.style.SUCCESS(f"Connection {connection.pk} ({kind}) for {organization.slug}.")
        )
        for account in accounts:
            self.stdout.write(f"  imported {account.external_id}: {account.name}")
        self.stdout.write(f"Run: python manage.py sync --connection {connection.pk}")
