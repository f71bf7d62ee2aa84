"""LLM provider settings per organization, and the record of every provider call."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.text import slugify

from adplatform.fields import EncryptedTextField
from adplatform.models import Organization


class ProviderKind(models.TextChoices):
    OPENAI = "openai", "OpenAI"
    ANTHROPIC = "anthropic", "Anthropic"
    GOOGLE_GENAI = "google_genai", "Google Gemini"
    # Ollama, vLLM, LM Studio, LiteLLM...: anything that speaks OpenAI Chat Completions.
    OPENAI_COMPATIBLE = "openai_compatible", "OpenAI-compatible endpoint"
    # The built-in analyst: statistics and templates, no data leaves the install.
    OFFLINE = "offline", "Offline analyst (built in)"


class CallStatus(models.TextChoices):
    OK = "ok", "OK"
    ERROR = "error", "Error"
    TIMEOUT = "timeout", "Timed out"
    RATE_LIMITED = "rate_limited", "Rate limited"
    MALFORMED = "malformed", "Malformed output"
    OVER_BUDGET = "over_budget", "Skipped: over monthly budget"
    COOLING_DOWN = "cooling_down", "Skipped: rate-limit cool-down"


def validate_agent_models(value: object) -> None:
    """Per-agent overrides are {"agent name": "model name"}, both non-empty strings."""
    if not isinstance(value, dict):
        raise ValidationError("Per-agent models must be an object of agent name to model name.")
    for agent, model in value.items():
        if not isinstance(agent, str) or slugify(agent).replace("-", "_") != agent:
            raise ValidationError(f"{agent!r} is not an agent name (lowercase, underscores).")
        if not isinstance(model, str) or not model.strip():
            raise ValidationError(f"The model for {agent!r} must be a non-empty string.")


class LLMProviderConfig(models.Model):
    """One link of an organization's fallback chain of LLM providers.

    The chain is the organization's active configs in `priority` order, always followed by
    the offline analyst. An organization with no config uses the install-wide provider from
    the environment (ADPLATFORM_LLM_*), then offline.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="llm_provider_configs"
    )
    provider = models.CharField(max_length=32, choices=ProviderKind.choices)
    model = models.CharField(
        max_length=200, blank=True, help_text="Model name, e.g. gpt-4o-mini. Empty for offline."
    )
    api_key = EncryptedTextField(help_text="Stored encrypted; never shown again once saved.")
    base_url = models.URLField(
        max_length=500,
        blank=True,
        help_text="Endpoint override; required for OpenAI-compatible servers "
        "(e.g. http://localhost:11434/v1 for Ollama).",
    )
    agent_models = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_agent_models],
        help_text='Per-agent model override, e.g. {"creative_reviewer": "gpt-4o"}.',
    )
    priority = models.PositiveSmallIntegerField(
        default=0, help_text="Lower runs first; the next one is the fallback."
    )
    timeout_seconds = models.FloatField(default=30.0, validators=[MinValueValidator(0.1)])
    monthly_token_budget = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        help_text="Prompt + completion tokens per calendar month (organization's time zone); "
        "empty means no limit. Over budget, the chain skips to the next provider.",
    )
    # Prices override the built-in table (agents/providers/pricing.py), e.g. 0 for a local model.
    input_price_per_million = models.DecimalField(
        max_digits=10, decimal_places=4, null=True, blank=True, help_text="USD per 1M tokens."
    )
    output_price_per_million = models.DecimalField(
        max_digits=10, decimal_places=4, null=True, blank=True, help_text="USD per 1M tokens."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organization", "priority", "pk"]
        verbose_name = "LLM provider config"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "priority"], name="unique_llm_provider_priority"
            ),
        ]

    def __str__(self) -> str:
        label = self.get_provider_display()
        return f"{label} {self.model}".strip() + f" (#{self.priority})"

    def clean(self) -> None:
        if self.provider != ProviderKind.OFFLINE and not self.model:
            raise ValidationError({"model": "A model name is required for this provider."})
        if self.provider == ProviderKind.OPENAI_COMPATIBLE and not self.base_url:
            raise ValidationError({"base_url": "An OpenAI-compatible endpoint needs a base URL."})

    @property
    def has_api_key(self) -> bool:
        return bool(self.api_key.get_secret_value())

    def model_for(self, agent: str) -> str:
        override = self.agent_models.get(agent) if isinstance(self.agent_models, dict) else None
        return override or self.model


class LLMCall(models.Model):
    """One attempt of one provider in a chain run: tokens, cost, latency, outcome.

    Holds no prompt or answer text (they may contain client data); `error` is scrubbed of
    secrets and personal data before it is stored.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="llm_calls"
    )
    # Null for the install-wide provider and for offline; kept when a config is deleted.
    config = models.ForeignKey(
        LLMProviderConfig, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    run_id = models.UUIDField(db_index=True, help_text="Groups the attempts of one chain run.")
    attempt = models.PositiveSmallIntegerField(help_text="Position in the chain, from 1.")
    agent = models.CharField(max_length=64)
    task = models.CharField(max_length=64)
    provider = models.CharField(max_length=32, choices=ProviderKind.choices)
    model = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16, choices=CallStatus.choices)
    requests = models.PositiveSmallIntegerField(
        default=0, help_text="HTTP requests made to the provider in this attempt."
    )
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    cost_estimate = models.DecimalField(
        max_digits=12, decimal_places=6, null=True, blank=True, help_text="USD; empty if unknown."
    )
    latency_ms = models.PositiveIntegerField(default=0)
    retry_after_seconds = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "LLM call"
        indexes = [
            models.Index(fields=["organization", "created_at"], name="llmcall_org_created"),
            models.Index(
                fields=["organization", "config", "created_at"], name="llmcall_org_config_created"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent}/{self.task} via {self.provider} {self.model}: {self.status}"

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class AgentTask(models.TextChoices):
    ACCOUNT_REVIEW = "account_review", "Account review (all agents)"
    BUDGET_PLAN = "budget_plan", "Budget plan"
    CREATIVE_VARIANTS = "creative_variants", "Creative variants"
    FORECAST = "forecast", "Forecast"


class AgentRun(models.Model):
    """One run of an agent task: what ran, on which provider, how long, what it found."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="agent_runs"
    )
    task = models.CharField(max_length=32, choices=AgentTask.choices)
    params = models.JSONField(default=dict, blank=True)
    agents = models.JSONField(default=list, blank=True)
    provider = models.CharField(max_length=32, blank=True)
    model = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED)
    # Steps done so far, e.g. [{"step": "frame", "at": "...", "seconds": 0.1}].
    progress = models.JSONField(default=list, blank=True)
    output = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    cost_estimate = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["organization", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_task_display()} #{self.pk} ({self.status})"

    @property
    def seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class RecommendationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPLIED = "applied", "Applied"
    DISMISSED = "dismissed", "Dismissed"
    FAILED = "failed", "Failed"


class Recommendation(models.Model):
    """An agent's proposed change to one campaign, in terms campaigns.services applies."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="recommendations"
    )
    run = models.ForeignKey(
        AgentRun, null=True, blank=True, on_delete=models.CASCADE, related_name="recommendations"
    )
    agent = models.CharField(max_length=64)
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="recommendations"
    )
    action = models.CharField(max_length=32)
    params = models.JSONField(default=dict, blank=True)
    title = models.CharField(max_length=300)
    rationale = models.TextField(blank=True)
    # {"metric": "conversions", "change": 1.2, "low": 0.8, "high": 1.6} per day.
    expected_impact = models.JSONField(null=True, blank=True)
    confidence = models.FloatField()
    evidence = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=16, choices=RecommendationStatus.choices, default=RecommendationStatus.PENDING
    )
    change = models.ForeignKey(
        "campaigns.CampaignChange",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["organization", "status"])]

    def __str__(self) -> str:
        return self.title


class CompetitorNote(models.Model):
    """What a user saw a competitor doing (an ad, an offer); untrusted text for the agents."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="competitor_notes"
    )
    competitor = models.CharField(max_length=200)
    platform = models.CharField(max_length=32, blank=True)
    text = models.TextField()
    observed_on = models.DateField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-observed_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.competitor} ({self.observed_on})"


class Competitor(models.Model):
    """A competitor an organization tracks in the Meta Ad Library: by pages or by keywords."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="competitors"
    )
    name = models.CharField(max_length=200)
    page_ids = models.JSONField(
        default=list, blank=True, help_text="Facebook page ids (digits), at most 10."
    )
    search_terms = models.CharField(
        max_length=100, blank=True, help_text="Keywords, when no page ids are given."
    )
    countries = models.JSONField(
        default=list, help_text='Countries the ads reached: ISO codes, e.g. ["DE", "FR"], or ALL.'
    )
    is_active = models.BooleanField(default=True)
    last_fetched_at = models.DateTimeField(null=True, blank=True)
    # A message safe to show (never a token) when the last refresh failed.
    last_fetch_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="unique_competitor_name_per_org"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CompetitorAd(models.Model):
    """One of a competitor's ads as read from the Ad Library (untrusted text)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="competitor_ads"
    )
    competitor = models.ForeignKey(Competitor, on_delete=models.CASCADE, related_name="ads")
    archive_id = models.CharField(max_length=64)
    page_id = models.CharField(max_length=64, blank=True)
    page_name = models.CharField(max_length=300, blank=True)
    bodies = models.JSONField(default=list, blank=True)
    link_titles = models.JSONField(default=list, blank=True)
    link_descriptions = models.JSONField(default=list, blank=True)
    delivery_start = models.DateField(null=True, blank=True)
    delivery_stop = models.DateField(null=True, blank=True)
    publisher_platforms = models.JSONField(default=list, blank=True)
    is_video = models.BooleanField(default=False)
    snapshot_url = models.URLField(max_length=1000, blank=True)
    fetched_at = models.DateTimeField()

    class Meta:
        ordering = ["-delivery_start", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["competitor", "archive_id"], name="unique_competitor_ad"
            ),
        ]
        indexes = [models.Index(fields=["organization", "delivery_start"])]

    def __str__(self) -> str:
        return f"{self.competitor} ad {self.archive_id}"


class VariantStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    SAVED = "saved", "Saved"
    DISCARDED = "discarded", "Discarded"


class CreativeVariant(models.Model):
    """An ad copy variant the Creative Specialist wrote, checked against platform limits."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="creative_variants"
    )
    run = models.ForeignKey(
        AgentRun, null=True, blank=True, on_delete=models.CASCADE, related_name="variants"
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="creative_variants",
    )
    platform = models.CharField(max_length=32)
    ad_format = models.CharField(max_length=32, blank=True)
    fields = models.JSONField(default=dict)
    violations = models.JSONField(default=list, blank=True)
    grounded_in = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=16, choices=VariantStatus.choices, default=VariantStatus.PROPOSED
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "pk"]
        indexes = [models.Index(fields=["organization", "status"])]

    def __str__(self) -> str:
        return f"{self.platform} variant #{self.pk}"
