from __future__ import annotations

from rest_framework.routers import SimpleRouter

from automation.api.views import (
    ApprovalViewSet,
    RuleActionViewSet,
    RuleExecutionViewSet,
    RuleTemplateViewSet,
    RuleViewSet,
)

router = SimpleRouter()
router.register("rules", RuleViewSet, basename="rule")
router.register("rule-executions", RuleExecutionViewSet, basename="rule-execution")
router.register("rule-templates", RuleTemplateViewSet, basename="rule-template")
router.register("approvals", ApprovalViewSet, basename="approval")
router.register("rule-actions", RuleActionViewSet, basename="rule-action")

urlpatterns = router.urls
