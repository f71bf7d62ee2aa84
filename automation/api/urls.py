from __future__ import annotations

from rest_framework.routers import SimpleRouter

from automation.api.views import (
    ApprovalViewSet,
    RuleExecutionViewSet,
    RuleTemplateViewSet,
    RuleViewSet,
)

router = SimpleRouter()
router.register("rules", RuleViewSet, basename="rule")
router.register("rule-executions", RuleExecutionViewSet, basename="rule-execution")
router.register("rule-templates", RuleTemplateViewSet, basename="rule-template")
router.register("approvals", ApprovalViewSet, basename="approval")

urlpatterns = router.urls
