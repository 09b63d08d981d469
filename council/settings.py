"""Project wiring: the settings of every app, all read from the environment."""

# Without configuration it runs embedded: SQLite and the in-memory channel
# layer. DATABASE_URL switches to PostgreSQL and REDIS_URL to Redis. Every
# variable is described in .env.example and README.md.

import re
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from council.env import env_bool, env_choice, env_int, env_key, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY (or DJANGO_SECRET_KEY_FILE) must be set when "
            "DJANGO_DEBUG is off."
        )
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"

# The audit chain is authenticated with a key kept out of the database, so
# that holding the database is not enough to rewrite it. Without AUDIT_KEY it
# is derived from SECRET_KEY under a label of its own (rotating SECRET_KEY
# then invalidates the chain: set AUDIT_KEY to keep them independent).
AUDIT_KEY_MIN_LENGTH = 32
AUDIT_KEY = env_key(
    "AUDIT_KEY",
    secret_key=SECRET_KEY,
    label=b"council.audit-chain.hmac-key.v1",
    min_length=AUDIT_KEY_MIN_LENGTH,
)

# Each secret poll's public key and the seals of its private key, and every
# keyholder's public key, carry an HMAC under this secret, which is not in the
# database: someone who can only write the database cannot substitute a key of
# their own. Unset: derived from SECRET_KEY under a label of its own.
POLL_KEY_SECRET_MIN_LENGTH = 32
POLL_KEY_SECRET = env_key(
    "POLL_KEY_SECRET",
    secret_key=SECRET_KEY,
    label=b"council.poll-key-binding.hmac-key.v1",
    min_length=POLL_KEY_SECRET_MIN_LENGTH,
)

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
SITE_URL = (env_str("SITE_URL") or "http://127.0.0.1:8000").rstrip("/")
if urlsplit(SITE_URL).scheme not in {"http", "https"}:
    raise ImproperlyConfigured(f"SITE_URL={SITE_URL!r} must start with http(s)://")
HTTPS = SITE_URL.startswith("https://")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "django_tasks",
    "django_tasks_db",
    "council",
    "meetings",
    "voting",
    "minutes",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.microsoft",
    "allauth.socialaccount.providers.openid_connect",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "council.urls"
ASGI_APPLICATION = "council.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "council.context_processors.site",
            ],
        },
    },
]

# Database: SQLite unless DATABASE_URL says otherwise.
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    try:
        DATABASES = {
            "default": dj_database_url.parse(
                DATABASE_URL,
                conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
                # A kept connection the server has since closed (restart,
                # failover, pg_terminate_backend) is replaced at the start of
                # the next request instead of failing it.
                conn_health_checks=True,
            )
        }
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not usable: {exc}") from exc
    # Only the two databases the application is tested on.
    if DATABASES["default"]["ENGINE"] not in {
        "django.db.backends.postgresql",
        "django.db.backends.sqlite3",
    }:
        raise ImproperlyConfigured(
            "DATABASE_URL must be a postgres:// (or sqlite://) URL, "
            f"not {urlsplit(DATABASE_URL).scheme}://."
        )
    if not DATABASES["default"].get("NAME"):
        raise ImproperlyConfigured("DATABASE_URL names no database.")
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH") or str(BASE_DIR / "db.sqlite3"),
            # Writers queue for the lock at BEGIN instead of failing mid-way,
            # which the audit chain and the ballot box rely on.
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
            # A file, not memory, so that a live server process shares it.
            "TEST": {"NAME": str(BASE_DIR / ".test-db.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Optional bounded pool of PostgreSQL connections per process (psycopg_pool).
# Under Daphne every concurrent request runs in its own thread with its own
# connection: a burst of ballots would otherwise exhaust max_connections.
DATABASE_POOL_MAX = env_int("DATABASE_POOL_MAX", 0, minimum=0)
if DATABASE_POOL_MAX and DATABASES["default"]["ENGINE"].endswith("postgresql"):
    if DATABASES["default"].get("CONN_MAX_AGE"):
        raise ImproperlyConfigured("DATABASE_POOL_MAX needs DATABASE_CONN_MAX_AGE=0.")
    from psycopg_pool import ConnectionPool

    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": DATABASE_POOL_MAX,
        "timeout": env_int("DATABASE_POOL_TIMEOUT", 30, minimum=1),
        # The pool hands out only connections that still answer.
        "check": ConnectionPool.check_connection,
    }

# Channel layer and cache: in memory unless REDIS_URL says otherwise.
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    if urlsplit(REDIS_URL).scheme not in {"redis", "rediss", "unix"}:
        raise ImproperlyConfigured(f"REDIS_URL={REDIS_URL!r} is not a redis:// URL.")
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "council.channel_layer.BlockingPoolRedisChannelLayer",
            "CONFIG": {
                "hosts": [{"address": REDIS_URL}],
                "prefix": env_str("REDIS_PREFIX") or "council",
                "capacity": env_int("CHANNEL_CAPACITY", 1000, minimum=10),
                "pool_size": env_int("REDIS_POOL_SIZE", 200, minimum=1),
                "pool_timeout": env_int("REDIS_POOL_TIMEOUT", 30, minimum=1),
            },
        }
    }
    # Login rate limits live in this cache: while Redis is down it answers
    # from each process's memory instead of failing (council/cache.py), and
    # the short timeouts make a dead Redis cost milliseconds, not seconds.
    CACHES = {
        "default": {
            "BACKEND": "council.cache.FallbackRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("REDIS_PREFIX") or "council",
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.5},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Accounts.
AUTH_USER_MODEL = "council.User"
AUTHENTICATION_BACKENDS = [
    "council.backends.CouncilPermissionBackend",  # permissions: the table alone
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation."
        "UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_ADAPTER = "council.auth.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "council.auth.SocialAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_REAUTHENTICATION_TIMEOUT = env_int("REAUTHENTICATION_TIMEOUT", 300, minimum=30)
# Brute-force protection: allauth's limits, kept in the shared cache.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "reauthenticate": "10/m/user",
    "reset_password": "20/m/ip,5/m/key",
}
ALLOW_SIGNUP = env_bool("ALLOW_SIGNUP", False)
# Behind a reverse proxy every request comes from the proxy: rate limits must
# count the client address it adds to X-Forwarded-For, not the proxy's own.
ALLAUTH_TRUSTED_PROXY_COUNT = env_int(
    "TRUSTED_PROXY_COUNT", 1 if env_bool("BEHIND_HTTPS_PROXY", HTTPS) else 0, minimum=0
)
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
# Allauth refuses a second factor while an address is unverified, against
# someone signing up with another's address to lock them out. Without
# self-signup, staff create every account and that cannot happen.
MFA_ALLOW_UNVERIFIED_EMAIL = not ALLOW_SIGNUP
MFA_PASSKEY_LOGIN_ENABLED = True
# One 30-second step either side: phones whose clocks drift a little still work.
MFA_TOTP_TOLERANCE = 1
MFA_TOTP_ISSUER = env_str("MFA_ISSUER") or "Council meetings"
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_ONLY = False
SOCIALACCOUNT_PROVIDERS: dict = {}
if env_str("ENTRA_CLIENT_ID"):
    if not env_str("ENTRA_CLIENT_SECRET"):
        raise ImproperlyConfigured(
            "ENTRA_CLIENT_ID is set but ENTRA_CLIENT_SECRET is not."
        )
    SOCIALACCOUNT_PROVIDERS["microsoft"] = {
        "APPS": [
            {
                "client_id": env_str("ENTRA_CLIENT_ID"),
                "secret": env_str("ENTRA_CLIENT_SECRET") or "",
                "settings": {"tenant": env_str("ENTRA_TENANT") or "organizations"},
            }
        ]
    }
if env_str("OIDC_CLIENT_ID"):
    if not env_str("OIDC_SERVER_URL"):
        raise ImproperlyConfigured("OIDC_CLIENT_ID is set but OIDC_SERVER_URL is not.")
    SOCIALACCOUNT_PROVIDERS["openid_connect"] = {
        "APPS": [
            {
                "provider_id": env_str("OIDC_PROVIDER_ID") or "oidc",
                "name": env_str("OIDC_NAME") or "OpenID Connect",
                "client_id": env_str("OIDC_CLIENT_ID"),
                "secret": env_str("OIDC_CLIENT_SECRET") or "",
                "settings": {"server_url": env_str("OIDC_SERVER_URL")},
            }
        ]
    }

# Languages: the four of Belgium's councils' working life.
LANGUAGE_CODE = env_choice("LANGUAGE_CODE", "fr", {"fr", "nl", "de", "en"})
LANGUAGES = [
    ("fr", _("French")),
    ("nl", _("Dutch")),
    ("de", _("German")),
    ("en", _("English")),
]
LOCALE_PATHS = [BASE_DIR / "council" / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
TIME_ZONE = env_str("TIME_ZONE") or "Europe/Brussels"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or BASE_DIR / "media")
# Where the audit chain's head is written after each verification and print,
# outside the database, so that a truncated chain shows.
AUDIT_ANCHOR_DIR = Path(
    env_str("AUDIT_ANCHOR_DIR") or MEDIA_ROOT.parent / "audit-anchors"
)
MEDIA_URL = "/media-not-served/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Email: printed to the console unless an SMTP host is given.
EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1, maximum=65535)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER") or ""
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD") or ""
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    # A mail server that stops answering fails the send (retried later)
    # instead of holding the worker for ever.
    EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30, minimum=1)
elif env_str("EMAIL_FILE_PATH"):
    # Each message written to a file in this directory (a test or a dry run).
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH")
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL") or "council@localhost"

# Video: Jitsi Meet on a configurable domain; the only origin allowed in frames.
JITSI_DOMAIN = env_str("JITSI_DOMAIN") or "meet.jit.si"
if not re.fullmatch(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?", JITSI_DOMAIN):
    raise ImproperlyConfigured(f"JITSI_DOMAIN={JITSI_DOMAIN!r} must be a host name.")

# Security headers. Secure cookies and HSTS whenever the site is served over HTTPS.
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
if env_bool("BEHIND_HTTPS_PROXY", HTTPS):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, f"https://{JITSI_DOMAIN}"],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF, "ws:", "wss:"] if not HTTPS else [SELF, "wss:"],
        "frame-src": [f"https://{JITSI_DOMAIN}"],
        "frame-ancestors": [NONE],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
    }
}

# Background work: django-tasks (the API of Django 6's django.tasks) on its
# database queue, embedded and on PostgreSQL alike; `manage.py run_worker`
# runs it (and re-queues jobs a killed worker left running).
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}
# A job running longer than this is taken for one whose worker died elsewhere.
TASK_RUNNING_TIMEOUT = env_int("TASK_RUNNING_TIMEOUT", 900, minimum=30)
# A convocation that cannot be sent is tried again this many times in all,
# waiting CONVOCATION_RETRY_SECONDS, then twice as long each time.
CONVOCATION_ATTEMPTS = env_int("CONVOCATION_ATTEMPTS", 5, minimum=1, maximum=20)
CONVOCATION_RETRY_SECONDS = env_int("CONVOCATION_RETRY_SECONDS", 60, minimum=1)
# The worker anchors the audit chain's head at least this often (seconds).
AUDIT_ANCHOR_INTERVAL = env_int("AUDIT_ANCHOR_INTERVAL", 3600, minimum=60)

# Request bodies: refused above MAX_REQUEST_BYTES before they are read
# (council/limits.py, and client_max_body_size in the reverse proxy). The
# largest agenda document leaves a megabyte of it for the rest of its form.
MAX_REQUEST_BYTES = env_int(
    "MAX_REQUEST_BYTES", 26 * 1024 * 1024, minimum=2 * 1024 * 1024
)
MEETINGS_MAX_UPLOAD_BYTES = min(25 * 1024 * 1024, MAX_REQUEST_BYTES - 1024 * 1024)
# Form fields are small; file parts above this go to a temporary file.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # Django's default, stated
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# Live sitting.
ATTENDANCE_GRACE_SECONDS = env_int("ATTENDANCE_GRACE_SECONDS", 60, minimum=0)
# Presence is a lease (meetings.live.presence): each open page of a sitting
# holds one, its server process renews the leases of its sockets every
# HEARTBEAT seconds for LEASE seconds, pages ping every PING seconds (a socket
# silent for a whole lease is dropped), and the worker sweeps expired leases
# every SWEEP seconds. SERVER_ID names this process across restarts (default:
# host and the address Daphne serves on), so a restart clears what it held.
PRESENCE_LEASE_SECONDS = env_int("PRESENCE_LEASE_SECONDS", 30, minimum=5)
PRESENCE_HEARTBEAT_SECONDS = env_int("PRESENCE_HEARTBEAT_SECONDS", 10, minimum=1)
PRESENCE_PING_SECONDS = env_int("PRESENCE_PING_SECONDS", 15, minimum=1)
PRESENCE_SWEEP_SECONDS = env_int("PRESENCE_SWEEP_SECONDS", 30, minimum=1)
PRESENCE_SERVER_ID = (env_str("PRESENCE_SERVER_ID") or "").strip()
for _name, _value in (
    ("PRESENCE_HEARTBEAT_SECONDS", PRESENCE_HEARTBEAT_SECONDS),
    ("PRESENCE_PING_SECONDS", PRESENCE_PING_SECONDS),
):
    if _value >= PRESENCE_LEASE_SECONDS:
        raise ImproperlyConfigured(
            f"{_name}={_value} must be below PRESENCE_LEASE_SECONDS="
            f"{PRESENCE_LEASE_SECONDS}: a lease would expire between renewals."
        )
if len(PRESENCE_SERVER_ID) > 150:
    raise ImproperlyConfigured("PRESENCE_SERVER_ID is longer than 150 characters.")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL") or "INFO"},
    # Request bodies are never logged: ballots travel in them.
    "loggers": {"django.request": {"level": "ERROR"}},
}
