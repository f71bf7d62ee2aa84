"""Settings for every profile, read from the environment.

The embedded default (no variables set) runs on SQLite with an in-memory channel
layer and eager Celery. Production is `DJANGO_ENV=production` plus a database,
Redis, a secret key and allowed hosts.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

# Lets the admin and generic views be subscripted at run time, as the type stubs expect.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    """A string from the environment, or from the file named by NAME_FILE (for secrets)."""
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        return Path(file_path).read_text().strip()
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


DJANGO_ENV = env_str("DJANGO_ENV", "development")
IS_PRODUCTION = DJANGO_ENV == "production"
IS_TESTING = env_bool("ADPLATFORM_TESTING")

DEBUG = env_bool("DEBUG", default=not IS_PRODUCTION)
if IS_PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off when DJANGO_ENV=production.")

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if IS_PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY is required when DJANGO_ENV=production.")
    # Only for the embedded default: sessions do not survive a restart with another key.
    SECRET_KEY = "insecure-development-key-adplatform-do-not-use-in-production-0123456789"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if IS_PRODUCTION else "127.0.0.1,localhost,testserver")
if IS_PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is required when DJANGO_ENV=production.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "template_partials",
    "channels",
    "django_celery_beat",
    "django_prometheus",
    "csp",
    "axes",
    "adplatform",
    "integrations",
    "campaigns",
    "analytics",
    "notifications",
    "automation",
    "agents",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "adplatform.observability.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "adplatform.middleware.CurrentOrganizationMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last before the Prometheus "after" hook: locks out repeated failed logins.
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "adplatform.urls"
WSGI_APPLICATION = "adplatform.wsgi.application"
ASGI_APPLICATION = "adplatform.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "adplatform.context_processors.organization",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
DATA_DIR = Path(env_str("ADPLATFORM_DATA_DIR", str(BASE_DIR / "var")))
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # psycopg 3's pool in each process; persistent connections are off because the
        # pool owns the connections.
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env_int("DATABASE_POOL_MIN", 1),
            "max_size": env_int("DATABASE_POOL_MAX", 10),
        }
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "adplatform.sqlite3"),
            "OPTIONS": {
                # WAL lets the web process read while a sync writes; IMMEDIATE avoids
                # "database is locked" when a read transaction upgrades to a write.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, channels, Celery ----------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
# Tasks go to queues by app, so each family can be scaled (and starved) on its own.
CELERY_TASK_ROUTES = {
    "campaigns.tasks.sync_*": {"queue": "sync"},
    "integrations.tasks.*": {"queue": "sync"},
    "automation.tasks.*": {"queue": "rules"},
    "notifications.tasks.*": {"queue": "notifications"},
    "agents.tasks.*": {"queue": "agents"},
}
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 30 * 60)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
# The demo runs beat inside the web process so scheduled work happens with no extra processes.
EMBEDDED_BEAT = env_bool("ADPLATFORM_EMBEDDED_BEAT", default=False)

# --- Auth, i18n ------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = (
    [
        {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
        {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
        {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
        {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    ]
    if IS_PRODUCTION
    else []
)
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "adplatform.auth_backends.EmailOrUsernameBackend",
]
# Login throttling: after AXES_FAILURE_LIMIT failures for a username from one address,
# that pair is locked out for AXES_COOLOFF_MINUTES.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_IPWARE_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/campaigns/"
LOGOUT_REDIRECT_URL = "/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files ------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(DATA_DIR / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if IS_PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Serve straight from the apps' static folders in development: no collectstatic step.
WHITENOISE_USE_FINDERS = not IS_PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG

# --- Security ------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# The token reaches htmx through the page (hx-headers), so scripts never need the cookie.
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if IS_PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # Health checks come over plain HTTP from the load balancer.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

# Content Security Policy: scripts and styles only from this app (plus inline styles, which
# chart libraries set on elements); nothing from other hosts.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "https:"],
        "connect-src": ["'self'", "ws:", "wss:"],
        "font-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "worker-src": ["'self'"],
    }
}

# Key(s) for credentials encrypted at rest. Comma-separated: the first encrypts, all
# decrypt, so keys can be rotated (see README, "Rotating the encryption key").
FIELD_ENCRYPTION_KEY = env_str("FIELD_ENCRYPTION_KEY")
if not FIELD_ENCRYPTION_KEY and IS_PRODUCTION:
    raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is required when DJANGO_ENV=production.")

# --- Email ------------------------------------------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=EMAIL_PORT == 587)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", default=EMAIL_PORT == 465)
else:
    EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "adplatform <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- REST API ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "adplatform.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["adplatform.api.permissions.IsOrganizationMember"],
    "DEFAULT_FILTER_BACKENDS": [
        "adplatform.api.filters.FilterBackend",
        "adplatform.api.filters.StrictOrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "adplatform.api.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "adplatform.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "adplatform.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_THROTTLE_CLASSES": ["adplatform.api.throttling.CallerRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"caller": env_str("API_THROTTLE_RATE", "1200/min")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "adplatform API",
    "DESCRIPTION": (
        "Partner API of adplatform. Authenticate with `Authorization: Bearer <api key>`; "
        "every response is limited to the key's organization."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI's files come from the drf-spectacular-sidecar package, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "PlatformEnum": "integrations.vocabulary.Platform",
        "DeliveryStatusEnum": "integrations.vocabulary.DeliveryStatus",
        "AccountStatusEnum": "campaigns.models.AccountStatus",
        "RoleEnum": "adplatform.models.Role",
        "NotificationPriorityEnum": "notifications.registry.Priority",
        "NotificationTypeEnum": "notifications.registry.type_choices",
        "PartnerNotificationTypeEnum": "notifications.api.serializers.partner_type_choices",
    },
}

# --- Logging ------------------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
# JSON lines in production (LOG_FORMAT=json), readable text otherwise. Every record carries
# the request id, organization and task id, and secrets are redacted by a filter on the
# handler, so nothing written bypasses it.
LOG_FORMAT = env_str("LOG_FORMAT", "json" if IS_PRODUCTION else "text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "adplatform.observability.ContextFilter"},
        "redact": {"()": "adplatform.observability.RedactingFilter"},
    },
    "formatters": {
        "text": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(organization)s %(task_id)s] %(message)s"
        },
        "json": {
            "()": "adplatform.observability.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(organization)s %(task_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context", "redact"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "INFO"}, "axes": {"level": "WARNING"}},
}

# --- Operations -----------------------------------------------------------------------------
# /metrics is open to a bearer token (METRICS_TOKEN) or to addresses in METRICS_ALLOWED_IPS;
# in development, to loopback as well.
METRICS_TOKEN = env_str("METRICS_TOKEN")
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", "" if IS_PRODUCTION else "127.0.0.1,::1")
PROMETHEUS_EXPORT_MIGRATIONS = False
# Mounts /bench/bare-json/ (a view with no query) as the ceiling for the load benchmark.
BENCH_VIEWS = env_bool("ADPLATFORM_BENCH_VIEWS")

# --- Product ---------------------------------------------------------------------------------
DEMO_PASSWORD = env_str("DEMO_PASSWORD", "demo")

# --- Integrations ---------------------------------------------------------------------------
# Real hosts by default; ADPLATFORM_API_BASE_<PLATFORM> / ADPLATFORM_OAUTH_BASE_<PLATFORM>
# (scheme and host) point a connector elsewhere, e.g. a local test server.
_PLATFORM_DEFAULTS = {
    "meta": ("https://graph.facebook.com", "https://www.facebook.com", "v25.0"),
    "instagram": ("https://graph.facebook.com", "https://www.facebook.com", "v25.0"),
    "google": ("https://googleads.googleapis.com", "https://accounts.google.com", "v25"),
    "tiktok": ("https://business-api.tiktok.com", "https://business-api.tiktok.com", "v1.3"),
    "linkedin": ("https://api.linkedin.com", "https://www.linkedin.com", "202601"),
    "x": ("https://ads-api.x.com", "https://api.x.com", "12"),
    "snapchat": ("https://adsapi.snapchat.com", "https://accounts.snapchat.com", "v1"),
    "pinterest": ("https://api.pinterest.com", "https://www.pinterest.com", "v5"),
}
ADPLATFORM_PLATFORMS = {
    name: {
        "api_base": env_str(f"ADPLATFORM_API_BASE_{name.upper()}", api).rstrip("/"),
        "oauth_base": env_str(f"ADPLATFORM_OAUTH_BASE_{name.upper()}", oauth).rstrip("/"),
        "api_version": env_str(f"ADPLATFORM_API_VERSION_{name.upper()}", version),
        "client_id": env_str(f"ADPLATFORM_{name.upper()}_CLIENT_ID"),
        "client_secret": env_str(f"ADPLATFORM_{name.upper()}_CLIENT_SECRET"),
        "developer_token": env_str(f"ADPLATFORM_{name.upper()}_DEVELOPER_TOKEN"),
        "timeout": float(env_str("ADPLATFORM_PLATFORM_TIMEOUT", "30")),
        "lookback_days": env_int(f"ADPLATFORM_{name.upper()}_LOOKBACK_DAYS", 7),
    }
    for name, (api, oauth, version) in _PLATFORM_DEFAULTS.items()
}
ADPLATFORM_PLATFORMS["sandbox"] = {
    "api_base": "sandbox://",
    "oauth_base": "sandbox://",
    "api_version": "1",
    "timeout": 5.0,
    "lookback_days": env_int("ADPLATFORM_SANDBOX_LOOKBACK_DAYS", 7),
}

# --- agents ---------------------------------------------------------------------------------
# The install-wide LLM provider, used by organizations without their own provider configs.
# "offline" (the default) is the built-in analyst: statistics and templates, no network.
# One of: offline, openai, anthropic, google_genai, openai_compatible.
ADPLATFORM_LLM_PROVIDER = env_str("ADPLATFORM_LLM_PROVIDER", "offline")
ADPLATFORM_LLM_MODEL = env_str("ADPLATFORM_LLM_MODEL")
ADPLATFORM_LLM_API_KEY = env_str("ADPLATFORM_LLM_API_KEY")
ADPLATFORM_LLM_BASE_URL = env_str("ADPLATFORM_LLM_BASE_URL")
# Per-agent model override for the install-wide provider: "agent=model,agent=model".
ADPLATFORM_LLM_AGENT_MODELS = env_list("ADPLATFORM_LLM_AGENT_MODELS")
ADPLATFORM_LLM_TIMEOUT = float(env_str("ADPLATFORM_LLM_TIMEOUT", "30"))
# Tokens per organization and calendar month for the install-wide provider; 0 means no limit.
ADPLATFORM_LLM_MONTHLY_TOKEN_BUDGET = env_int("ADPLATFORM_LLM_MONTHLY_TOKEN_BUDGET", 0)
# Retries inside the SDK; low because the fallback chain is the real retry.
ADPLATFORM_LLM_MAX_RETRIES = env_int("ADPLATFORM_LLM_MAX_RETRIES", 1)
ADPLATFORM_LLM_MAX_OUTPUT_TOKENS = env_int("ADPLATFORM_LLM_MAX_OUTPUT_TOKENS", 2048)
ADPLATFORM_LLM_MAX_TOOL_STEPS = env_int("ADPLATFORM_LLM_MAX_TOOL_STEPS", 6)
# Seconds a rate-limited provider is skipped when it sent no Retry-After.
ADPLATFORM_LLM_RATE_LIMIT_COOLDOWN = env_int("ADPLATFORM_LLM_RATE_LIMIT_COOLDOWN", 30)
# LangSmith tracing copies prompts (client data) to LangSmith; off unless asked for here.
ADPLATFORM_LLM_TRACING = env_bool("ADPLATFORM_LLM_TRACING", default=False)
# Endpoint overrides per provider (proxies, gateways, and local servers in tests).
ADPLATFORM_OPENAI_BASE_URL = env_str("ADPLATFORM_OPENAI_BASE_URL")
ADPLATFORM_ANTHROPIC_BASE_URL = env_str("ADPLATFORM_ANTHROPIC_BASE_URL")
ADPLATFORM_GOOGLE_GENAI_BASE_URL = env_str("ADPLATFORM_GOOGLE_GENAI_BASE_URL")
# Meta Ad Library (`ads_archive`) for the Competitive Analyst: host and version default to
# Meta's; the token is the organization's Meta connection's, else this install-wide one.
ADPLATFORM_META_AD_LIBRARY_BASE_URL = env_str(
    "ADPLATFORM_META_AD_LIBRARY_BASE_URL", str(ADPLATFORM_PLATFORMS["meta"]["api_base"])
)
ADPLATFORM_META_AD_LIBRARY_VERSION = env_str(
    "ADPLATFORM_META_AD_LIBRARY_VERSION", str(ADPLATFORM_PLATFORMS["meta"]["api_version"])
)
ADPLATFORM_META_AD_LIBRARY_TOKEN = env_str("ADPLATFORM_META_AD_LIBRARY_TOKEN")
# Most recent ads read per tracked competitor and refresh.
ADPLATFORM_META_AD_LIBRARY_MAX_ADS = env_int("ADPLATFORM_META_AD_LIBRARY_MAX_ADS", 300)

# --- Sync (campaigns, integrations) ------------------------------------------------------------
# Days a first sync of a new account reads; later syncs re-read each platform's lookback.
ADPLATFORM_SYNC_INITIAL_DAYS = env_int("ADPLATFORM_SYNC_INITIAL_DAYS", 30)
# Days per metrics request (and per committed step of a sync).
ADPLATFORM_SYNC_CHUNK_DAYS = env_int("ADPLATFORM_SYNC_CHUNK_DAYS", 7)
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update(  # type: ignore[attr-defined]
    {
        "ChangeKindEnum": "campaigns.models.ChangeKind",
        "ChangeStatusEnum": "campaigns.models.ChangeStatus",
        "ActorKindEnum": "campaigns.models.ActorKind",
        "SyncKindEnum": "campaigns.models.SyncKind",
        "SyncStatusEnum": "campaigns.models.SyncStatus",
        "ConnectionStatusEnum": "integrations.models.ConnectionStatus",
        "SettableStatusEnum": [("active", "active"), ("paused", "paused")],
    }
)

# --- analytics ---------------------------------------------------------------------------
# plotly.js comes from the installed plotly package (see analytics/staticfiles.py).
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "analytics.staticfiles.PlotlyFinder",
]
# How often an open dashboard asks whether a sync brought new data (seconds).
ANALYTICS_DASHBOARD_POLL_SECONDS = env_int("ANALYTICS_DASHBOARD_POLL_SECONDS", 60)

# --- notifications ---
# Repeats of the same type + subject within this window bump a count instead of a new row.
NOTIFICATIONS_DEDUP_WINDOW_SECONDS = env_int("NOTIFICATIONS_DEDUP_WINDOW_SECONDS", 15 * 60)
# Notifications without an explicit expiry are removed after this many days (0: never).
NOTIFICATIONS_DEFAULT_EXPIRY_DAYS = env_int("NOTIFICATIONS_DEFAULT_EXPIRY_DAYS", 90)
NOTIFICATIONS_MAX_ATTEMPTS = env_int("NOTIFICATIONS_MAX_ATTEMPTS", 5)
NOTIFICATIONS_RETRY_BACKOFF_SECONDS = env_int("NOTIFICATIONS_RETRY_BACKOFF_SECONDS", 30)
NOTIFICATIONS_RETRY_BACKOFF_MAX_SECONDS = env_int("NOTIFICATIONS_RETRY_BACKOFF_MAX_SECONDS", 3600)
NOTIFICATIONS_HTTP_TIMEOUT = float(env_int("NOTIFICATIONS_HTTP_TIMEOUT", 10))
NOTIFICATIONS_EMAIL_TIMEOUT = float(env_int("NOTIFICATIONS_EMAIL_TIMEOUT", 20))
# Local hour at which each member's daily digest of low-priority emails goes out.
NOTIFICATIONS_DIGEST_HOUR = env_int("NOTIFICATIONS_DIGEST_HOUR", 8)
# How many missed notifications a reconnecting WebSocket client is sent at most.
NOTIFICATIONS_REPLAY_LIMIT = env_int("NOTIFICATIONS_REPLAY_LIMIT", 200)
# Organization template overrides are cached per process by notify() for this long.
NOTIFICATIONS_TEMPLATE_CACHE_SECONDS = env_int("NOTIFICATIONS_TEMPLATE_CACHE_SECONDS", 30)
# Absolute links in emails, pushes and webhooks.
NOTIFICATIONS_SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")
# Webhook and push destinations on loopback/private addresses are refused in production (SSRF).
NOTIFICATIONS_ALLOW_PRIVATE_DESTINATIONS = env_bool(
    "NOTIFICATIONS_ALLOW_PRIVATE_DESTINATIONS", default=not IS_PRODUCTION
)
# VAPID keys for web push (base64url); without them a pair is generated once and stored encrypted.
NOTIFICATIONS_VAPID_PUBLIC_KEY = env_str("VAPID_PUBLIC_KEY")
NOTIFICATIONS_VAPID_PRIVATE_KEY = env_str("VAPID_PRIVATE_KEY")
NOTIFICATIONS_VAPID_SUBJECT = env_str(
    "VAPID_SUBJECT", "mailto:" + DEFAULT_FROM_EMAIL.split("<")[-1].rstrip(">")
)
# channels-redis' pub/sub layer by default: one PUBLISH per group message, received once per
# server process and fanned out there. The list-based RedisChannelLayer (CHANNEL_LAYER=core)
# writes one entry per socket and reads them back one by one: in bench/ it delivered
# ~3k messages/s and dropped most of a 1,000-socket burst (channel capacity) where pub/sub
# delivered ~20k/s and lost none.
# redis-py's asyncio pool refuses (not waits) past 100 connections, which a burst of socket
# connects exceeds, so the cap is raised. redis-py 8 also defaults to a 5 s socket timeout,
# the same as channels-redis' 5 s BZPOPMIN: idle consumers then die with "Timeout reading".
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": (
                "channels_redis.core.RedisChannelLayer"
                if env_str("CHANNEL_LAYER") == "core"
                else "channels_redis.pubsub.RedisPubSubChannelLayer"
            ),
            "CONFIG": {
                # Pub/sub channel names are shared by every database of a Redis server.
                "prefix": env_str("CHANNEL_LAYER_PREFIX", "asgi"),
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "max_connections": env_int("CHANNEL_LAYER_MAX_CONNECTIONS", 2000),
                        "socket_timeout": env_int("CHANNEL_LAYER_SOCKET_TIMEOUT", 30),
                    }
                ],
            },
        }
    }

# --- automation (rules as code, undo) ---
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update(  # type: ignore[attr-defined]
    {
        "RuleActionStatusEnum": "automation.models.ActionStatus",
        "RuleExecutionStatusEnum": "automation.models.ExecutionStatus",
    }
)
