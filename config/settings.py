"""Settings of the CRM, read from environment variables (see README, "Configuration").

One module for every environment. ``CRM_ENV`` chooses the defaults that differ:
``development`` (the embedded default: SQLite, a file-system task queue, no other server),
``production`` (PostgreSQL and Redis expected, secrets required, secure cookies) and ``test``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
LOCAL_DIR = Path(os.environ.get("CRM_LOCAL_DIR", BASE_DIR / ".local"))

CRM_ENV = os.environ.get("CRM_ENV", "development")
if CRM_ENV not in {"development", "production", "test"}:
    raise ImproperlyConfigured("CRM_ENV must be development, production or test.")
PRODUCTION = CRM_ENV == "production"


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY", "")
    if key:
        return key
    if PRODUCTION:
        raise ImproperlyConfigured(
            "SECRET_KEY is required when CRM_ENV=production. "
            "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(64))'"
        )
    # Development and tests: generate once and keep it in an ignored local file.
    path = LOCAL_DIR / "secret_key"
    if not path.exists():
        LOCAL_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()

# Field-level encryption keys (see README, "Security"): a key file named by CRM_KEY_FILE, or its JSON
# in CRM_FIELD_KEYS (for a secrets manager). Never in the database or the repository. Set-up creates
# the development file; production must be given one (the CRM refuses to start without it).
CRM_KEY_FILE = os.environ.get("CRM_KEY_FILE") or str(LOCAL_DIR / "field-keys.json")
CRM_FIELD_KEYS = os.environ.get("CRM_FIELD_KEYS", "")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",  # trigram lookups on PostgreSQL (crm.core.postgres); inert on SQLite
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "django_celery_results",
    "django_celery_beat",
    # The product, bottom floor first (see DESIGN.md).
    "crm.core",
    "crm.accounts",
    "crm.customers",
    "crm.sales",
    "crm.dataprotection",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "crm.core.security.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "crm.core.middleware.RequestIdMiddleware",
    "crm.core.middleware.RejectBadInputMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "crm.accounts.middleware.UserPreferencesMiddleware",
    "crm.accounts.middleware.TwoFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "crm.core.middleware.JournalContextMiddleware",
    "axes.middleware.AxesMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
    "crm.core.security.middleware.ApiAuthFailureLimitMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "crm" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "crm.core.context_processors.navigation",
            ],
        },
    }
]

# --- Database --------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{LOCAL_DIR / 'crm.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.postgresql":
    # Fail fast when the server is unreachable or a statement runs away.
    _db.setdefault("OPTIONS", {}).update(
        {
            "connect_timeout": int(os.environ.get("DB_CONNECT_TIMEOUT", "3")),
            "options": f"-c statement_timeout={int(os.environ.get('DB_STATEMENT_TIMEOUT_MS', '30000'))}",
        }
    )
elif _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["CONN_MAX_AGE"] = 0
    _db.setdefault("OPTIONS", {}).update(
        {
            "timeout": 10,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    if _db["NAME"] != ":memory:":
        Path(_db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, sessions, task queue ----------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    # Shared by every process on this machine (web and worker), unlike a per-process memory cache,
    # and without a database write per request (rate limits count in the cache).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(LOCAL_DIR / "cache"),
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.db"

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or REDIS_URL or "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
if CELERY_BROKER_URL == "filesystem://":
    _queue_dir = LOCAL_DIR / "queue"
    for _sub in ("in", "processed", "control"):
        (_queue_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "in"),
        "data_folder_out": str(_queue_dir / "in"),
        "processed_folder": str(_queue_dir / "processed"),
        "control_folder": str(_queue_dir / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 3600,
        "socket_timeout": 3,
        "socket_connect_timeout": 3,
    }
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_TASK_ACKS_LATE = True  # a task whose worker dies is delivered again...
CELERY_TASK_REJECT_ON_WORKER_LOST = True  # ...and tasks are written to be idempotent.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5}
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"

# --- Authentication ---------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "crm.accounts.backends.UsernameOrEmailBackend",
]
PASSWORD_HASHERS = [
    "crm.accounts.hashers.Argon2idPasswordHasher",  # Argon2id with OWASP's parameters
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "crm.accounts.validators.MaximumLengthValidator", "OPTIONS": {"max_length": 128}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24  # one day

# Lock-out after repeated failures: per account, for a cool-off period, reset by a success.
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("LOGIN_COOLOFF_MINUTES", "15")) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
# Attempts during the cool-off do not extend it: a guesser cannot keep the owner out indefinitely.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_USERNAME_FORM_FIELD = "username"
AXES_LOCKOUT_CALLABLE = "crm.accounts.views.auth.lockout_response"
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_IPWARE_PROXY_COUNT = int(os.environ.get("PROXY_COUNT", "0")) or None
AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
# Per-address throttle of login attempts (a flood from one address does not lock anyone out).
LOGIN_RATE_PER_ADDRESS = os.environ.get("LOGIN_RATE_PER_ADDRESS", "30/m")
RATELIMIT_VIEW = "crm.core.views.errors.rate_limited"

OTP_TOTP_ISSUER = os.environ.get("OTP_ISSUER", "CRM")

# --- Internationalisation --------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "crm" / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files (front-end libraries come from node_modules, see package.json) -------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "crm" / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "crm.core.staticfiles.NodeModulesFinder",
]
NODE_MODULES_DIR = BASE_DIR / "node_modules"
# static path -> path inside node_modules
NODE_MODULES_FILES = {
    "vendor/tabler/tabler.min.css": "@tabler/core/dist/css/tabler.min.css",
    "vendor/tabler/tabler.min.css.map": "@tabler/core/dist/css/tabler.min.css.map",
    "vendor/tabler/tabler.min.js": "@tabler/core/dist/js/tabler.min.js",
    "vendor/tabler/tabler.min.js.map": "@tabler/core/dist/js/tabler.min.js.map",
    "vendor/tabler-icons/tabler-icons.min.css": "@tabler/icons-webfont/dist/tabler-icons.min.css",
    "vendor/tabler-icons/fonts/tabler-icons.woff2": "@tabler/icons-webfont/dist/fonts/tabler-icons.woff2",
    "vendor/tabler-icons/fonts/tabler-icons.woff": "@tabler/icons-webfont/dist/fonts/tabler-icons.woff",
    "vendor/tabler-icons/fonts/tabler-icons.ttf": "@tabler/icons-webfont/dist/fonts/tabler-icons.ttf",
    "vendor/htmx/htmx.min.js": "htmx.org/dist/htmx.min.js",
    "vendor/echarts/echarts.min.js": "echarts/dist/echarts.min.js",
    "vendor/sortable/Sortable.min.js": "sortablejs/Sortable.min.js",
}
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_MANIFEST_STRICT = False
# Outside production the files are served straight from their sources (no collectstatic needed).
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION
if os.environ.get("S3_BUCKET"):  # uploaded files on S3-compatible storage: pip install -r requirements/s3.lock
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["S3_BUCKET"],
            "endpoint_url": os.environ.get("S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("S3_REGION") or None,
            "access_key": os.environ.get("S3_ACCESS_KEY_ID") or None,
            "secret_key": os.environ.get("S3_SECRET_ACCESS_KEY") or None,
            "location": os.environ.get("S3_PREFIX", ""),
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", LOCAL_DIR / "media"))
MEDIA_URL = "/media/"

# --- Limits on what a request may carry ------------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # 2.5 MB of form or JSON body
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Attachments on records: the largest file accepted (bytes).
ATTACHMENT_MAX_BYTES = int(os.environ.get("ATTACHMENT_MAX_BYTES", 25 * 1024 * 1024))
# The attachment size limit is enforced while an upload arrives (crm/core/attachments/uploads.py).
FILE_UPLOAD_HANDLERS = [
    "crm.core.attachments.uploads.AttachmentUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
CRM_JSON_MAX_DEPTH = 32

# --- Email ------------------------------------------------------------------------------------
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "CRM <crm@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend"
)
CRM_BASE_URL = os.environ.get("CRM_BASE_URL", "").rstrip("/")

# --- REST API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "crm.accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["crm.core.api.permissions.ModulePermission"],
    "DEFAULT_PARSER_CLASSES": ["crm.core.api.parsers.SafeJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "crm.core.api.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["crm.core.api.throttling.PerTokenThrottle"],
    "DEFAULT_THROTTLE_RATES": {"token": os.environ.get("API_RATE", "1200/min")},
    "EXCEPTION_HANDLER": "crm.core.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_VERSIONING_CLASS": None,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CRM API",
    "DESCRIPTION": "REST API of the CRM. Authenticate with `Authorization: Bearer <token>` "
    "(create a token under your user menu, API tokens) or with the browser session.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ActivityKindEnum": "crm.customers.choices.ActivityKind",
        "KindEnum": "crm.customers.choices.ChannelKind",
        "TaskStatusEnum": "crm.customers.choices.TaskStatus",
        "StatusEnum": "crm.core.choices.JobStatus",
        "LeadSourceEnum": "crm.sales.choices.LeadSource",
        "LeadStatusEnum": "crm.sales.choices.LeadStatus",
        "DealStatusEnum": "crm.sales.choices.DealStatus",  # the same values as a stage's kind
        "QuoteStatusEnum": "crm.sales.choices.QuoteStatus",
        "ForecastStatusEnum": "crm.sales.choices.ForecastStatus",
        "ScoringKindEnum": "crm.sales.choices.ScoringKind",
        "PrivacyRequestKindEnum": "crm.dataprotection.choices.RequestKind",
        "PrivacyRequestStatusEnum": "crm.dataprotection.choices.RequestStatus",
    },
    # Swagger UI and ReDoc are served from the drf-spectacular-sidecar package, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_AGE_SECONDS", str(60 * 60 * 12)))
CSRF_COOKIE_HTTPONLY = False  # htmx reads it to send X-CSRFToken
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Content-Security-Policy (django-csp, sent by crm.core.security.middleware): scripts only from this
# site's own files (no inline script, no eval); styles from this site plus inline style attributes,
# which a few pages use for widths computed on the server (progress bars).
CONTENT_SECURITY_POLICY: dict[str, Any] = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
    }
}
# Pages that need more than the policy above, by path prefix: Swagger UI starts with an inline script.
CRM_CSP_PATH_UPDATES: dict[str, dict[str, Any]] = {"/api/docs/": {"script-src": [UNSAFE_INLINE]}}
CRM_PERMISSIONS_POLICY = os.environ.get("PERMISSIONS_POLICY", "camera=(), microphone=(), geolocation=()")
# API requests with a refused token, per address (a token guesser never reaches the per-token throttle).
API_AUTH_FAILURE_RATE = os.environ.get("API_AUTH_FAILURE_RATE", "30/m")
# The audit chain: on PostgreSQL an id gap is sealed over once the entry after it is this old (a
# transaction still running may hold the missing id). Longer than the longest write transaction.
CRM_AUDIT_SEAL_GRACE_SECONDS = int(os.environ.get("AUDIT_SEAL_GRACE_SECONDS", "300"))
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS is required when CRM_ENV=production.")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}, "django.request": {"level": "ERROR"}},
}
CSRF_FAILURE_VIEW = "crm.core.views.errors.csrf_failure"

# Periodic work (synced into django-celery-beat's tables, where administrators can see it).
CELERY_BEAT_SCHEDULE = {
    "requeue-stale-jobs": {"task": "core.jobs_requeue_stale_task", "schedule": 120.0},
    "seal-audit-log": {"task": "core.audit_seal_task", "schedule": 60.0},
    "send-task-reminders": {"task": "customers.task_reminders_send_task", "schedule": 60.0},
    "sweep-import-uploads": {"task": "customers.import_uploads_sweep_task", "schedule": 3600.0},
    "scan-duplicates": {"task": "customers.duplicates_scan_task", "schedule": 6 * 3600.0},
    "reassign-untouched-leads": {"task": "sales.leads_reassign_untouched_task", "schedule": 900.0},
    "train-lead-scoring": {"task": "sales.scoring_train_task", "schedule": 24 * 3600.0},
    "compute-forecasts": {"task": "sales.forecast_compute_task", "schedule": 24 * 3600.0},
    "apply-retention-rules": {"task": "dataprotection.retention_apply_task", "schedule": 24 * 3600.0},
    # Starts the backup the schedule (Settings -> Backups) says is due, if any.
    "run-due-backups": {"task": "dataprotection.backup_due_task", "schedule": 300.0},
}

# Lock-out is per account on purpose (an address is throttled separately by LOGIN_RATE_PER_ADDRESS),
# so one noisy address never locks other people out.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# Customers: the region assumed for phone numbers typed without a country code (ISO 3166 code).
CRM_PHONE_REGION = os.environ.get("PHONE_REGION", "US")
# The company's own currency (ISO 4217): reports, forecasts and quotas are in it; deals and quotes in
# other currencies are converted with the exchange rates an administrator keeps under Settings.
CRM_CURRENCY = os.environ.get("CRM_CURRENCY", "USD").upper()
# Who sends quotes: the name (and optional address lines, separated by "|") printed on quote PDFs.
CRM_COMPANY_NAME = os.environ.get("CRM_COMPANY_NAME", "Your company")
CRM_COMPANY_ADDRESS = os.environ.get("CRM_COMPANY_ADDRESS", "")
# Web-to-lead forms: submissions per visitor address, the least time a person takes to fill a form
# in (faster is a robot), and the largest body accepted.
WEB_FORM_RATE = os.environ.get("WEB_FORM_RATE", "20/h")
WEB_FORM_MIN_FILL_SECONDS = int(os.environ.get("WEB_FORM_MIN_FILL_SECONDS", "3"))
WEB_FORM_MAX_BODY_BYTES = int(os.environ.get("WEB_FORM_MAX_BODY_BYTES", str(64 * 1024)))
# Imports: the largest file and the most rows one import may hold.
CRM_IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", str(200 * 1024 * 1024)))
CRM_IMPORT_MAX_ROWS = int(os.environ.get("IMPORT_MAX_ROWS", "1000000"))
# Requests per personal calendar feed (calendar programs poll it).
CALENDAR_FEED_RATE = os.environ.get("CALENDAR_FEED_RATE", "60/m")

# --- Backups (crm.dataprotection.backup; see README, "Backups and restore") --------------------------------
# Where encrypted backups go by default (Settings -> Backups chooses this folder or S3): beside the
# database in development; in production a folder on another disk, or S3.
CRM_BACKUP_DIR = Path(os.environ.get("CRM_BACKUP_DIR") or LOCAL_DIR / "backups")
# Scratch space of backups and restores (temporary files, decrypted chains while they are checked).
CRM_BACKUP_WORK_DIR = Path(os.environ.get("CRM_BACKUP_WORK_DIR") or LOCAL_DIR / "backup-work")
# S3-compatible destination (needs requirements/s3.lock). Credentials fall back to boto3's own chain.
CRM_BACKUP_S3_BUCKET = os.environ.get("CRM_BACKUP_S3_BUCKET", "")
CRM_BACKUP_S3_PREFIX = os.environ.get("CRM_BACKUP_S3_PREFIX", "crm-backups/")
CRM_BACKUP_S3_ENDPOINT_URL = os.environ.get("CRM_BACKUP_S3_ENDPOINT_URL", "")
CRM_BACKUP_S3_REGION = os.environ.get("CRM_BACKUP_S3_REGION", "")
CRM_BACKUP_S3_ACCESS_KEY_ID = os.environ.get("CRM_BACKUP_S3_ACCESS_KEY_ID", "")
CRM_BACKUP_S3_SECRET_ACCESS_KEY = os.environ.get("CRM_BACKUP_S3_SECRET_ACCESS_KEY", "")
# An incremental re-reads rows saved this long before the previous backup, and the journal ids missing
# below its position in that time (on PostgreSQL a transaction may commit after a backup with ids below
# that backup's position). Longer than the longest write transaction.
CRM_BACKUP_SAFETY_WINDOW_SECONDS = int(os.environ.get("CRM_BACKUP_SAFETY_WINDOW_SECONDS", "900"))
# A private key file the scheduled and page-started verifications restore with (optional: without it
# they check the stored files only). Whoever can read it can read the backups.
CRM_BACKUP_VERIFY_IDENTITY = os.environ.get("CRM_BACKUP_VERIFY_IDENTITY", "")
