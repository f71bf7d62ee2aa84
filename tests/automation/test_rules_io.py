"""Rules as code: export and import as YAML/JSON through the one rule schema."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from adplatform.models import AuditEntry, Membership, Organization, Role
from automation.models import AutomationRule
from automation.rules_io import dump_rule_file, load_rule_file, rule_file
from automation.schema import RuleDefinitionError
from tests.adplatform.factories import OrganizationFactory
from tests.automation.factories import RuleFactory
from tests.campaigns.factories import CampaignFactory

pytestmark = pytest.mark.django_db

RULE_YAML = """
version: 1
rules:
  - name: Pause high CPA
    type: performance
    frequency: daily
    conditions:
      operator: and
      items:
        - {metric: cpa, window: last_7_days, operator: gt, value: 50}
        - operator: or
          items:
            - {metric: ctr, window: last_3_days, operator: lt, value: 0.5}
            - {metric: spend, window: last_7_days, operator: gt, value: 30, compare_to_previous: true}
    actions:
      - {type: pause}
      - {type: notify, priority: high, stop_on_failure: false}
    guardrails: {cooldown_hours: 12}
  - name: Scale winners
    type: scaling
    is_enabled: false
    conditions:
      items: [{metric: roas, window: last_7_days, operator: gt, value: 3}]
    actions: [{type: increase_budget, percent: 20}]
    guardrails: {max_budget_change_pct: 25, budget_ceiling: 900}
"""


def _import(
    client: APIClient, body: str, *, dry_run: bool = False, media: str = "application/yaml"
):
    url = "/api/v1/rules/import/" + ("?dry_run=true" if dry_run else "")
    return client.post(url, data=body, content_type=media)


def test_a_yaml_file_creates_rules_and_a_second_import_changes_nothing(
    organization: Organization, api_client_for: Callable[..., APIClient]
) -> None:
    client = api_client_for(organization)

    first = _import(client, RULE_YAML)
    second = _import(client, RULE_YAML)

    assert first.status_code == 200, first.content
    assert (first.json()["created"], first.json()["updated"]) == (2, 0)
    assert second.json()["unchanged"] == 2 and second.json()["created"] == 0
    rule = AutomationRule.objects.get(organization=organization, name="Pause high CPA")
    assert rule.frequency == "daily" and rule.is_enabled
    assert rule.conditions["items"][1]["items"][0]["value"] == "0.5"
    assert rule.actions[1] == {"type": "notify", "stop_on_failure": False, "priority": "high"}
    scale = AutomationRule.objects.get(organization=organization, name="Scale winners")
    assert not scale.is_enabled and scale.guardrails["budget_ceiling"] == "900"
    assert AuditEntry.objects.filter(organization=organization, action="rule_changed").count() == 2


def test_an_import_updates_the_rule_of_the_same_name_and_says_what_changed(
    organization: Organization, api_client_for: Callable[..., APIClient]
) -> None:
    client = api_client_for(organization)
    _import(client, RULE_YAML)
    changed = RULE_YAML.replace("percent: 20", "percent: 15")

    response = _import(client, changed)

    body = response.json()
    assert (body["created"], body["updated"], body["unchanged"]) == (0, 1, 1)
    updated = next(r for r in body["rules"] if r["outcome"] == "updated")
    assert updated["name"] == "Scale winners" and updated["fields"] == ["actions"]
    scale = AutomationRule.objects.get(organization=organization, name="Scale winners")
    assert str(scale.actions[0]["percent"]) == "15"
    assert AutomationRule.objects.filter(organization=organization).count() == 2


def test_a_dry_run_reports_and_writes_nothing(
    organization: Organization, api_client_for: Callable[..., APIClient]
) -> None:
    response = _import(api_client_for(organization), RULE_YAML, dry_run=True)

    assert response.status_code == 200
    assert response.json()["dry_run"] is True
    assert [(r["name"], r["outcome"], r["id"]) for r in response.json()["rules"]] == [
        ("Pause high CPA", "created", None),
        ("Scale winners", "created", None),
    ]
    assert not AutomationRule.objects.exists()
    assert not AuditEntry.objects.filter(action="rule_changed").exists()


def test_one_invalid_rule_is_a_400_with_document_paths_and_nothing_is_written(
    organization: Organization, api_client_for: Callable[..., APIClient]
) -> None:
    bad = RULE_YAML.replace("metric: ctr", "metric: ctz").replace("percent: 20", "percent: 5000")

    response = _import(api_client_for(organization), bad)

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"rules.0.conditions.items.1.items.0.metric", "rules.1.actions.0.percent"}
    assert "Unknown metric 'ctz'" in errors["rules.0.conditions.items.1.items.0.metric"][0]
    assert not AutomationRule.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("version: 2\nrules: []", "version"),
        ("rules:\n  - name: x\n    actions: [{type: pause}]", "rules.0.conditions"),
        (
            "rules:\n  - {name: x, colour: red, conditions: {items: [{metric: cpa, operator: gt, value: 1}]}, actions: [{type: pause}]}",
            "rules.0.colour",
        ),
        ("[1, 2]", "non_field_errors"),
    ],
)
def test_a_malformed_file_names_the_path(
    organization: Organization, api_client_for: Callable[..., APIClient], body: str, field: str
) -> None:
    response = _import(api_client_for(organization), body)

    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_unparseable_yaml_is_a_400(
    organization: Organization, api_client_for: Callable[..., APIClient]
) -> None:
    response = _import(api_client_for(organization), "rules: [unclosed")

    assert response.status_code == 400
    assert "Not valid YAML" in response.json()["detail"]


def test_yaml_tags_that_build_objects_are_refused(
    organization: Organization, api_client_for: Callable[..., APIClient]
) -> None:
    response = _import(api_client_for(organization), "!!python/object/apply:os.system ['true']")

    assert response.status_code == 400
    assert not AutomationRule.objects.exists()


def test_two_entries_with_one_name_are_refused(organization: Organization) -> None:
    text = RULE_YAML.replace("Scale winners", "Pause high CPA")

    with pytest.raises(RuleDefinitionError) as raised:
        load_rule_file(text)

    assert "rules.1.name" in raised.value.errors


def test_a_scope_naming_another_organizations_campaign_is_a_400(
    organization: Organization,
    other_organization: Organization,
    api_client_for: Callable[..., APIClient],
) -> None:
    foreign = CampaignFactory(
        organization=other_organization, ad_account__organization=other_organization
    )
    document = {
        "version": 1,
        "rules": [
            {
                "name": "Theirs",
                "scope": {"include": {"campaign_ids": [foreign.pk]}},
                "conditions": {"items": [{"metric": "cpa", "operator": "gt", "value": "1"}]},
                "actions": [{"type": "pause"}],
            }
        ],
    }

    response = api_client_for(organization).post("/api/v1/rules/import/", document, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["rules.0.scope.include.campaign_ids"]
    assert not AutomationRule.objects.exists()


def test_a_file_upload_is_imported(
    organization: Organization, api_client_for: Callable[..., APIClient]
) -> None:
    upload = io.BytesIO(RULE_YAML.encode())
    upload.name = "rules.yaml"

    response = api_client_for(organization).post(
        "/api/v1/rules/import/", {"file": upload, "dry_run": "false"}, format="multipart"
    )

    assert response.status_code == 200, response.content
    assert AutomationRule.objects.filter(organization=organization).count() == 2


def test_a_viewer_cannot_import(
    organization: Organization, api_client_for: Callable[..., APIClient]
) -> None:
    response = _import(api_client_for(organization, Role.VIEWER), RULE_YAML)

    assert response.status_code == 403
    assert not AutomationRule.objects.exists()


def test_export_as_yaml_and_json_round_trips_and_holds_only_the_callers_rules(
    organization: Organization,
    other_organization: Organization,
    api_client_for: Callable[..., APIClient],
) -> None:
    client = api_client_for(organization)
    _import(client, RULE_YAML)
    RuleFactory(organization=other_organization, name="Not yours")

    as_yaml = client.get("/api/v1/rules/export/?format=yaml")
    as_json = client.get("/api/v1/rules/export/?format=json")

    assert as_yaml.status_code == 200
    assert as_yaml["Content-Type"].startswith("application/yaml")
    assert 'filename="rules.yaml"' in as_yaml["Content-Disposition"]
    document = yaml.safe_load(as_yaml.content)
    assert document == json.loads(as_json.content)
    assert [r["name"] for r in document["rules"]] == ["Pause high CPA", "Scale winners"]
    assert "Not yours" not in as_yaml.content.decode()
    # Exported, then imported again: nothing to change.
    again = _import(client, as_yaml.content.decode())
    assert again.json()["unchanged"] == 2


def test_export_of_chosen_ids_and_unknown_ids(
    organization: Organization,
    other_organization: Organization,
    api_client_for: Callable[..., APIClient],
) -> None:
    mine = RuleFactory(organization=organization, name="Mine")
    RuleFactory(organization=organization, name="Other")
    foreign = RuleFactory(organization=other_organization)
    client = api_client_for(organization)

    chosen = client.get(f"/api/v1/rules/export/?ids={mine.pk}")
    refused = client.get(f"/api/v1/rules/export/?format=yaml&ids={mine.pk},{foreign.pk}")

    assert [r["name"] for r in chosen.json()["rules"]] == ["Mine"]
    assert refused.status_code == 400
    assert refused["Content-Type"].startswith("application/json")
    assert list(refused.json()["errors"]) == ["ids"]


def test_the_command_applies_one_file_to_several_organizations(
    organization: Organization, tmp_path: object
) -> None:
    second = OrganizationFactory(slug="client-b")
    path = tmp_path / "rules.yaml"  # type: ignore[operator]
    path.write_text(RULE_YAML)
    out = io.StringIO()

    call_command("import_rules", "--org", f"{organization.slug},client-b", str(path), stdout=out)

    for org in (organization, second):
        assert set(
            AutomationRule.objects.filter(organization=org).values_list("name", flat=True)
        ) == {
            "Pause high CPA",
            "Scale winners",
        }
    assert "created 2" in out.getvalue()


def test_the_command_changes_no_organization_when_the_file_fails_for_one(
    organization: Organization, other_organization: Organization, tmp_path: object
) -> None:
    campaign = CampaignFactory(organization=organization, ad_account__organization=organization)
    document = rule_file([])
    document["rules"] = [
        {
            "name": "Scoped",
            "scope": {"include": {"campaign_ids": [campaign.pk]}},
            "conditions": {"items": [{"metric": "cpa", "operator": "gt", "value": "1"}]},
            "actions": [{"type": "pause"}],
        }
    ]
    path = tmp_path / "rules.json"  # type: ignore[operator]
    path.write_text(dump_rule_file(document, format="json"))

    with pytest.raises(CommandError) as raised:
        call_command(
            "import_rules", "--org", f"{organization.slug},{other_organization.slug}", str(path)
        )

    assert f"{other_organization.slug}: rules.0.scope.include.campaign_ids" in str(raised.value)
    assert not AutomationRule.objects.exists()


def test_an_unknown_export_format_is_a_400(
    organization: Organization, api_client_for: Callable[..., APIClient]
) -> None:
    response = api_client_for(organization).get("/api/v1/rules/export/?format=xml")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["format"]


def test_the_rules_page_exports_and_imports_with_errors_in_place(
    member: Membership, web_client_for: Callable[[Membership], Any]
) -> None:
    client = web_client_for(member)
    bad = RULE_YAML.replace("metric: ctr", "metric: ctz")

    page = client.get("/rules/")
    refused = client.post("/rules/import/", {"text": bad}, HTTP_HX_REQUEST="true")
    dry = client.post("/rules/import/", {"text": RULE_YAML, "dry_run": "on"})
    done = client.post("/rules/import/", {"text": RULE_YAML})
    exported = client.get("/rules/export/")

    assert 'id="rule-import"' in page.content.decode()
    assert "rules.0.conditions.items.1.items.0.metric: Unknown metric" in refused.content.decode()
    assert "Dry run: would create 2" in dry.content.decode()
    assert "Created 2" in done.content.decode()
    assert AutomationRule.objects.filter(organization=member.organization).count() == 2
    assert exported["Content-Disposition"] == 'attachment; filename="rules.yaml"'
    assert "Pause high CPA" in exported.content.decode()
