from __future__ import annotations

from django.contrib.auth.models import User
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from adplatform.models import Organization
from adplatform.web import OrganizationRequest, organization_view
from automation import selectors
from automation.conflicts import organization_conflicts, rule_conflicts
from automation.forms import Layout, RuleBuilderForm, RuleImportForm
from automation.gallery import RULE_TEMPLATES
from automation.models import AutomationRule, ExecutionTrigger, RuleAction
from automation.performance import rule_performance
from automation.rules_io import Format, dump_rule_file, load_rule_file, rule_file
from automation.schema import RuleDefinitionError
from automation.services import (
    ApprovalError,
    approve_rule_action,
    backtest_rule,
    create_rule,
    reject_rule_action,
    rule_definition,
    set_rule_enabled,
    update_rule,
)
from automation.services.imports import import_rules
from automation.services.undo import (
    UndoError,
    undo_blocker,
    undo_rule_action,
    undone_change_ids,
)
from automation.tasks import evaluate_rule_task
from campaigns.models import ChangeStatus
from campaigns.services.changes import Actor


def _user(request: OrganizationRequest) -> User:
    # organization_view lets only signed-in members through.
    assert isinstance(request.user, User)
    return request.user


def _rule(request: OrganizationRequest, rule_id: int) -> AutomationRule:
    try:
        return selectors.get_rule(request.organization, rule_id=rule_id)
    except AutomationRule.DoesNotExist:
        raise Http404("No such rule.") from None


@organization_view()
def rule_list(request: OrganizationRequest) -> HttpResponse:
    rules = list(selectors.list_rules(request.organization))
    latest = selectors.latest_executions(request.organization)
    conflicts = organization_conflicts(request.organization)
    return render(
        request,
        "automation/list.html",
        {
            "rules": [(rule, latest.get(rule.pk), conflicts.get(rule.pk, [])) for rule in rules],
            "approvals": selectors.list_pending_approvals(request.organization)[:50],
            "templates": RULE_TEMPLATES,
            "import_form": RuleImportForm(),
        },
    )


@organization_view(write=True)
def rule_new(request: OrganizationRequest) -> HttpResponse:
    """The builder. Its +/−/↑ buttons post `op` and get the form back reshaped (no script
    needed); "Create rule" validates with the rule schema and shows errors in place."""
    return _builder(request, rule=None)


@organization_view(write=True)
def rule_edit(request: OrganizationRequest, rule_id: int) -> HttpResponse:
    """The builder on an existing rule, when it can show all of the rule (see
    RuleBuilderForm.for_rule); otherwise a page that says why and points to the rule file."""
    rule = _rule(request, rule_id)
    if request.method != "POST":
        form = RuleBuilderForm.for_rule(rule)
        if form is None:
            rule_yaml = dump_rule_file(rule_file([rule]), format="yaml")
            return render(
                request, "automation/edit_unsupported.html", {"rule": rule, "rule_yaml": rule_yaml}
            )
        return render(request, "automation/new.html", {"form": form, "rule": rule})
    return _builder(request, rule=rule)


def _builder(request: OrganizationRequest, *, rule: AutomationRule | None) -> HttpResponse:
    op = request.POST.get("op", "save") if request.method == "POST" else ""
    if op and op != "save":
        layout = Layout.read(request.POST)
        layout.edit(op)
        kept = {
            name: request.POST[name]
            for name in (*RuleBuilderForm.PLAIN, *RuleBuilderForm.SETTINGS, "match")
            if request.POST.get(name) not in (None, "")
        }
        form = RuleBuilderForm(layout=layout, initial=kept)
    else:
        form = RuleBuilderForm(request.POST if request.method == "POST" else None)
    if op == "save" and form.is_valid():
        try:
            if rule is None:
                rule = create_rule(
                    request.organization, user=_user(request), values=form.rule_values()
                )
            else:
                rule = update_rule(
                    request.organization, rule=rule, user=_user(request), values=form.rule_values()
                )
        except RuleDefinitionError as exc:
            for path, messages in exc.errors.items():
                for message in messages:
                    form.add_error(None, f"{path}: {message}")
        else:
            if request.htmx:
                response = HttpResponse(status=204)
                response["HX-Redirect"] = f"/rules/{rule.pk}/"
                return response
            return redirect("automation:detail", rule_id=rule.pk)
    template = "automation/new.html#builder" if request.htmx else "automation/new.html"
    return render(request, template, {"form": form, "rule": rule})


@organization_view(write=True)
@require_POST
def rule_from_template(request: OrganizationRequest) -> HttpResponse:
    slug = request.POST.get("slug", "")
    template = next((t for t in RULE_TEMPLATES if t["slug"] == slug), None)
    if template is None:
        raise Http404("No such template.")
    values = {
        k: template[k] for k in ("name", "type", "frequency", "conditions", "actions", "guardrails")
    }
    rule = create_rule(
        request.organization, user=_user(request), values={**values, "is_enabled": False}
    )
    return redirect("automation:detail", rule_id=rule.pk)


def _actions_with_undo(
    organization: Organization, rule: AutomationRule
) -> list[tuple[RuleAction, bool]]:
    actions = list(selectors.list_rule_actions(organization).filter(rule=rule)[:50])
    undone = undone_change_ids(organization, [a.change_id for a in actions if a.change_id])
    return [
        (action, undo_blocker(action) is None and action.change_id not in undone)
        for action in actions
    ]


@organization_view()
def rule_detail(request: OrganizationRequest, rule_id: int) -> HttpResponse:
    rule = _rule(request, rule_id)
    return render(
        request,
        "automation/detail.html",
        {
            "rule": rule,
            "executions": selectors.list_executions(request.organization, rule_id=rule.pk)[:50],
            "conflicts": rule_conflicts(request.organization, rule),
            "performance": rule_performance(request.organization, rule),
            "actions": _actions_with_undo(request.organization, rule),
        },
    )


@organization_view()
def rule_preview(request: OrganizationRequest, rule_id: int) -> HttpResponse:
    rule = _rule(request, rule_id)
    try:
        days = max(1, min(int(request.GET.get("days", "14")), 90))
    except ValueError:
        days = 14
    result = backtest_rule(request.organization, definition=rule_definition(rule), days=days)
    return render(request, "automation/detail.html#preview", {"rule": rule, "result": result})


@organization_view(write=True)
@require_POST
def rule_toggle(request: OrganizationRequest, rule_id: int) -> HttpResponse:
    rule = _rule(request, rule_id)
    set_rule_enabled(
        request.organization, rule=rule, user=_user(request), is_enabled=not rule.is_enabled
    )
    return redirect("automation:detail", rule_id=rule.pk)


@organization_view(write=True)
@require_POST
def rule_run(request: OrganizationRequest, rule_id: int) -> HttpResponse:
    rule = _rule(request, rule_id)
    evaluate_rule_task.delay(rule.pk, ExecutionTrigger.MANUAL.value)
    return redirect("automation:detail", rule_id=rule.pk)


@organization_view(write=True)
@require_POST
def approval_decide(request: OrganizationRequest, action_id: int) -> HttpResponse:
    decide = (
        approve_rule_action if request.POST.get("decision") == "approve" else reject_rule_action
    )
    try:
        decided = decide(request.organization, action_id=action_id, user=_user(request))
    except ApprovalError:
        raise Http404("No such proposal.") from None
    return render(request, "automation/list.html#approval", {"proposal": decided})


@organization_view()
def rule_export(request: OrganizationRequest) -> HttpResponse:
    """All of the organization's rules as a rule file download (YAML unless ?format=json)."""
    fmt: Format = "json" if request.GET.get("format") == "json" else "yaml"
    text = dump_rule_file(rule_file(selectors.list_rules(request.organization)), format=fmt)
    content_type = "application/json" if fmt == "json" else "application/yaml"
    response = HttpResponse(text, content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="rules.{fmt}"'
    return response


@organization_view(write=True)
@require_POST
def rule_import(request: OrganizationRequest) -> HttpResponse:
    """Import a rule file (upload or pasted text); errors and the outcome in place."""
    form = RuleImportForm(request.POST, request.FILES)
    result = None
    if form.is_valid():
        try:
            result = import_rules(
                request.organization, user=_user(request),
                document=load_rule_file(form.content()), dry_run=form.cleaned_data["dry_run"],
            )  # fmt: skip
        except RuleDefinitionError as exc:
            for path, messages in exc.errors.items():
                for message in messages:
                    form.add_error(None, f"{path}: {message}")
    return render(request, "automation/list.html#import", {"import_form": form, "result": result})


@organization_view(write=True)
@require_POST
def rule_action_undo(request: OrganizationRequest, action_id: int) -> HttpResponse:
    """Undo what a rule applied; the row is redrawn with the outcome in place."""
    try:
        change = undo_rule_action(
            request.organization, action_id=action_id, actor=Actor.for_user(_user(request)),
            user=_user(request),
        )  # fmt: skip
        message = (
            "Undone." if change.status == ChangeStatus.APPLIED
            else f"Not undone: {change.error or change.get_status_display()}"
        )  # fmt: skip
    except RuleAction.DoesNotExist:
        raise Http404("No such action.") from None
    except UndoError as exc:
        message = f"Not undone: {exc}"
    action = selectors.list_rule_actions(request.organization).get(pk=action_id)
    undone = undone_change_ids(request.organization, [action.change_id or 0])
    undoable = undo_blocker(action) is None and action.change_id not in undone
    return render(
        request,
        "automation/detail.html#action",
        {"action": action, "undoable": undoable, "message": message},
    )
