"""Settings, read from the environment (django-environ).

DJANGO_ENV=development (default): SQLite under var/, Celery on kombu's filesystem broker under var/,
console email. Nothing to install or start.
DJANGO_ENV=production: DJANGO_SECRET_KEY and DJANGO_ALLOWED_HOSTS are required, DEBUG must be off, and
`manage.py check --deploy` is clean. DATABASE_URL and REDIS_URL select PostgreSQL and Redis in any mode.
"""

import datetime
from pathlib import Path

import environ
from celery.schedules import crontab
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DJANGO_ENV = env("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(f"DJANGO_ENV must be development or production, not {DJANGO_ENV!r}")
PRODUCTION = DJANGO_ENV == "production"

# Never used outside development: production refuses to start with it (below).
DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789"
SECRET_KEY = env("DJANGO_SECRET_KEY", default=DEV_SECRET_KEY)
DEBUG = env.bool("DJANGO_DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[] if PRODUCTION else ["*"])

if PRODUCTION:
    if DEBUG:
        raise ImproperlyConfigured("DJANGO_DEBUG must be off in production.")
    if SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("Set DJANGO_SECRET_KEY to a random value of 50+ characters in production.")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("Set DJANGO_ALLOWED_HOSTS in production.")

# The safe word is encrypted at rest with these Fernet keys (comma-separated; the first encrypts, all decrypt).
# Development gets a fixed key; production refuses to start without its own.
DEV_SAFE_WORD_KEY = "TssoHsEYECxZ82nLfHYnA-qk5nR3DBH45_3cYVZ6N3A="
SAFE_WORD_KEYS = env.list("SAFE_WORD_KEY", default=[] if PRODUCTION else [DEV_SAFE_WORD_KEY])
if PRODUCTION and (not SAFE_WORD_KEYS or DEV_SAFE_WORD_KEY in SAFE_WORD_KEYS):
    raise ImproperlyConfigured("Set SAFE_WORD_KEY to a Fernet key (Fernet.generate_key()) in production.")
try:
    [Fernet(_key) for _key in SAFE_WORD_KEYS]
except ValueError as _error:
    raise ImproperlyConfigured("SAFE_WORD_KEY must be Fernet keys: 32 url-safe base64-encoded bytes.") from _error

# Uploaded CSV lists of prohibited addresses larger than this are refused before they are read.
PROHIBITED_CSV_MAX_BYTES = env.int("PROHIBITED_CSV_MAX_BYTES", default=2 * 1024 * 1024)
PROHIBITED_CSV_MAX_ROWS = env.int("PROHIBITED_CSV_MAX_ROWS", default=5000)
# The MIS export of pupils and carers, and the staff list (core.tabular): larger files, more rows (one a pupil and
# carer; a large secondary's export is about 4,000) or an Excel workbook that unpacks to more are refused before
# anything is parsed. A preview waits this many hours for its confirmation, then it is deleted with its rows.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=10 * 1024 * 1024)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=8000)
IMPORT_MAX_UNZIPPED_BYTES = env.int("IMPORT_MAX_UNZIPPED_BYTES", default=50 * 1024 * 1024)
IMPORT_PREVIEW_HOURS = env.int("IMPORT_PREVIEW_HOURS", default=24)
# A staff invitation's link (set your password) works once, for this many days.
STAFF_INVITATION_DAYS = env.int("STAFF_INVITATION_DAYS", default=7)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "guardian",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "django_filters",
    "phonenumber_field",
    "localflavor",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "axes",
    "pgtrigger",  # the audit trail's append-only trigger, installed by core's migrations
    "core",
    "families",
    "safeguarding",
    "visits",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files, before anything that would touch a session
    # Headers and the board screen (settings further down):
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    "core.headers.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "homevisits.refusals.RefusalPageMiddleware",  # a refusal with no body of its own (a bare 405) gets words
    "core.screen_auth.BoardScreenMiddleware",  # a reception screen's device cookie (the board only)
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Sign-in: after authentication and messages; axes last, as it asks.
    "core.signin.middleware.SessionLimitsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "core.signin.middleware.SecondFactorMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "homevisits.urls"
CSRF_FAILURE_VIEW = "homevisits.refusals.csrf_failure"  # an expired form: a page in the site's layout, in words
WSGI_APPLICATION = "homevisits.wsgi.application"

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
                "core.context_processors.roles",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The run command's web server and its worker (which sweeps every second) write to one file. A transaction
    # that starts as a reader and then writes cannot wait for the other writer (SQLite answers "database is
    # locked" at once), so each transaction takes the write lock when it begins, and waits up to 20 s for it.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    # A query that runs away is cancelled after this long instead of holding a web worker, a connection and its
    # locks (README, "Running at scale"); none by default, so migrations and nightly jobs are not cut short.
    if statement_timeout := env.int("DATABASE_STATEMENT_TIMEOUT_MS", default=0):
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = f"-c statement_timeout={statement_timeout}"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "core.signin.backends.AxesBackend",  # first: refuses a locked-out username and address before any check
    "core.auth.CachedModelBackend",  # ModelBackend, with the signed-in user kept in the cache
    "allauth.account.auth_backends.AuthenticationBackend",  # sign-in by single sign-on and passkey
    "guardian.backends.ObjectPermissionBackend",
]
# No anonymous guardian user: every page but log-in and /healthz needs a signed-in member of staff.
ANONYMOUS_USER_NAME = None


LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
# The letters' translations (README, "Letters in the family's language"): .po and compiled .mo files.
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
# With DEBUG off (production, and any server but runserver) the web process serves static files itself
# (whitenoise): `collectstatic` writes each file under a name with its hash, and gzip and brotli copies, so
# browsers keep them for a year and a new release is fetched at once. With DEBUG on, files come straight from
# static/ under their own names, as runserver and the tests want (no collectstatic first).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=VAR_DIR / "media")

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

PHONENUMBER_DEFAULT_REGION = "GB"
PHONENUMBER_DEFAULT_FORMAT = "NATIONAL"

EMAIL_CONFIG = env.email("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
# Links in emails point here (emails carry a link, never the visit's details).
SITE_URL = env("SITE_URL", default="http://localhost:8000")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Home visits <homevisits@example.org>")

# The cache holds sessions, signed-in users (core.auth) and the office board's state, so in
# production every process must share it: Redis (CACHE_URL, its own database number, since tests clear it).
# In development one process serves pages and a process-local cache is enough.
CACHE_URL = env("CACHE_URL", default="")


def redis_cache(url: str) -> dict:
    # A cache that is down must not take the board down with it: reads miss (sessions and users come from the
    # database, the board's version is worked out afresh), failures are logged, /healthz reports them.
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": url,
        "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
    }


DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
if CACHE_URL:
    CACHES = {"default": redis_cache(CACHE_URL)}
elif PRODUCTION:
    raise ImproperlyConfigured("Set CACHE_URL to a Redis database (redis://host:6379/1) in production.")
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Sessions are read from the cache and written through to the database (they survive a cache flush).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Celery: Redis when REDIS_URL (or CELERY_BROKER_URL) is set, else a broker that needs no server.
REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery" / "queue"
    _processed_dir = VAR_DIR / "celery" / "processed"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_processed_dir),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }

# The alert sweep (visits.alerts). Latency target: an overdue alert stored within 2 s (p99) of its due time.
# Every Celery worker runs it itself, in a thread of each pool process (visits/alerts/sweeper.py), so there is
# no beat to die and the broker is not on the path: with two workers, either covers the other within a second.
# A due visit waits at most one interval for the next sweep, and a sweep of the partial index of away visits
# takes milliseconds, so a 1 s interval leaves ~1 s of headroom.
ALERT_SWEEP_INTERVAL_SECONDS = env.float("ALERT_SWEEP_INTERVAL_SECONDS", default=1.0)
ALERT_SWEEP_IN_WORKERS = env.bool("ALERT_SWEEP_IN_WORKERS", default=True)
# "Degraded" after two missed intervals, but never sooner than this: the board polls every few seconds and a
# threshold shorter than its poll would only make the warning flicker.
ALERT_SWEEP_STALE_FLOOR_SECONDS = env.float("ALERT_SWEEP_STALE_FLOOR_SECONDS", default=5.0)
# A dead man's switch outside the system (healthchecks.io or the like): each healthy sweep GETs this URL, at most
# every ALERT_SWEEP_PING_EVERY_SECONDS per process, in the background with a short timeout. Empty: no pings.
ALERT_SWEEP_PING_URL = env("ALERT_SWEEP_PING_URL", default="")
ALERT_SWEEP_PING_EVERY_SECONDS = env.float("ALERT_SWEEP_PING_EVERY_SECONDS", default=30.0)
ALERT_SWEEP_PING_TIMEOUT_SECONDS = env.float("ALERT_SWEEP_PING_TIMEOUT_SECONDS", default=3.0)
if ALERT_SWEEP_PING_URL and not ALERT_SWEEP_PING_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured("ALERT_SWEEP_PING_URL must be an http(s) address.")
if PRODUCTION and ALERT_SWEEP_PING_URL.startswith("http://"):
    raise ImproperlyConfigured("ALERT_SWEEP_PING_URL must use https in production.")
# Nothing on the alarm path is scheduled by beat any more; a beat may run for other schedules, as many as wanted.
# Records (visits/records): the nightly list of what the retention schedule says is due; it disposes of nothing,
# and running it twice (two beats) lists the same rows once.
CELERY_BEAT_SCHEDULE = {
    "retention-list-due": {
        "task": "visits.retention_list_due",
        "schedule": crontab(hour=2, minute=15),
    },
    # A leaver's file sent with no receipt yet: the DSLs are reminded each morning until it is recorded.
    "transfer-reminders": {
        "task": "visits.transfer_reminders_send",
        "schedule": crontab(hour=7, minute=30),
    },
    # A check-in's location (sent only with the visitor's consent) goes after the policy's days, by itself: the
    # retention schedule names it, but a position is not a record for anyone to review.
    "checkin-locations-remove-expired": {
        "task": "visits.checkin_locations_remove_expired",
        "schedule": crontab(hour=2, minute=45),
    },
}
# How often the office board refreshes itself (within 5 s, so the office sees a late pair at once).
BOARD_POLL_SECONDS = env.int("BOARD_POLL_SECONDS", default=3)

# Text messages: console in development; a provider's backend class in production (visits/alerts/sms.py and
# visits/alerts/providers/). README: "Connecting a text provider".
SMS_BACKEND = env("SMS_BACKEND", default="visits.alerts.sms.ConsoleSMSBackend")
SMS_FILE_PATH = env("SMS_FILE_PATH", default=str(VAR_DIR / "sms.jsonl"))
# GOV.UK Notify: texts (SMS_BACKEND=...govuk_notify.NotifySMSBackend) and letters by post. The callback token is
# the bearer token typed into Notify for its delivery-receipt and received-text callbacks.
NOTIFY_API_KEY = env("NOTIFY_API_KEY", default="")
NOTIFY_BASE_URL = env("NOTIFY_BASE_URL", default="https://api.notifications.service.gov.uk")
NOTIFY_SMS_TEMPLATE_ID = env("NOTIFY_SMS_TEMPLATE_ID", default="")
NOTIFY_SMS_SENDER_ID = env("NOTIFY_SMS_SENDER_ID", default="")
NOTIFY_CALLBACK_TOKEN = env("NOTIFY_CALLBACK_TOKEN", default="")
NOTIFY_LETTER_POSTAGE = env("NOTIFY_LETTER_POSTAGE", default="second")
# Twilio: texts (SMS_BACKEND=...twilio_sms.TwilioSMSBackend); the auth token also signs Twilio's webhooks.
TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM_NUMBER = env("TWILIO_FROM_NUMBER", default="")
TWILIO_MESSAGING_SERVICE_SID = env("TWILIO_MESSAGING_SERVICE_SID", default="")
TWILIO_API_BASE_URL = env("TWILIO_API_BASE_URL", default="")  # empty: Twilio's own (a test double sets it)
# A provider that does not answer in this long counts as a failed try (the outbox tries again).
PROVIDER_TIMEOUT_SECONDS = env.float("PROVIDER_TIMEOUT_SECONDS", default=10.0)
if NOTIFY_LETTER_POSTAGE not in {"first", "second", "economy"}:
    raise ImproperlyConfigured("NOTIFY_LETTER_POSTAGE must be first, second or economy.")
if PRODUCTION:
    from core.checks import provider_problems, unsafe_backends  # plain constants and functions: safe before setup

    _unsafe = unsafe_backends(email_backend=EMAIL_CONFIG["EMAIL_BACKEND"], sms_backend=SMS_BACKEND)
    _unsafe += provider_problems({name: value for name, value in vars().items() if name.isupper()})
    if _unsafe:
        raise ImproperlyConfigured(" ".join(message for _setting, message in _unsafe))

# Headers and the board screen.
# A strict Content-Security-Policy: scripts, styles, images and requests from this site only; no inline script
# or style (templates load everything from static/), no plugins, no framing, forms post only here.
# Bootstrap's CSS draws its icons (menu, checkboxes, selects) as data: SVG images.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Nothing in the product uses the camera, microphone or the like: each is off for every origin. Location is this
# site's only, for the field page (a visitor may let the phone send it with check-ins). Sound stays allowed here,
# for the board's alert cue.
PERMISSIONS_POLICY = {
    "accelerometer": [],
    "autoplay": ["self"],
    "camera": [],
    "display-capture": [],
    "encrypted-media": [],
    "geolocation": ["self"],
    "gyroscope": [],
    "magnetometer": [],
    "microphone": [],
    "midi": [],
    "payment": [],
    "publickey-credentials-get": ["self"],  # passkeys for sign-in
    "screen-wake-lock": ["self"],  # a board screen may keep itself awake
    "serial": [],
    "usb": [],
    "xr-spatial-tracking": [],
}
# Reception board screens (core.screens): the one-time enrolment link lasts this long; the screen's device
# cookie lasts as long as browsers allow (400 days), is sent to /board/ only, and ends when it is switched off.
BOARD_SCREEN_ENROLMENT_HOURS = env.int("BOARD_SCREEN_ENROLMENT_HOURS", default=24)
BOARD_SCREEN_COOKIE_NAME = "homevisits_board_screen"
BOARD_SCREEN_COOKIE_AGE_SECONDS = 400 * 24 * 60 * 60

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    # WeasyPrint logs every layout step at INFO, and twilio every API call; keep their warnings only.
    "loggers": {
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        "twilio.http_client": {"level": "WARNING"},
    },
}

# Sign-in (django-allauth, its MFA and single sign-on, django-axes). Kept together in one block.
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # zxcvbn's dictionaries (English words, names, common passwords, dates and years) plus our own words.
    {"NAME": "django_zxcvbn_password_validator.ZxcvbnPasswordValidator"},
]
PASSWORD_MINIMAL_STRENGTH = 3  # zxcvbn's 0-4 score: 3 is "safely unguessable" (about 10^10 guesses)
PASSWORD_EXTRA_DICTIONARY = ["safeguarding", "homevisits", "home visit", "school", "academy", "trust", "reception"]
ACCOUNT_ADAPTER = "core.signin.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "core.signin.adapters.SocialAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "none"  # addresses are set by the trust admin, not typed in by the person
ACCOUNT_SESSION_REMEMBER = False  # shared PCs: the session ends with the browser
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_REAUTHENTICATION_TIMEOUT = 15 * 60  # opening casework, a safe word or an export asks again after this
# axes locks a username at an address; allauth's own per-username lock would let anyone lock anyone out.
ACCOUNT_RATE_LIMITS = {"login_failed": "20/m/ip"}
MFA_ADAPTER = "core.signin.adapters.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_TOTP_ISSUER = "Home visits"
MFA_TOTP_TOLERANCE = 1  # a code from the step before or after: phones' clocks drift
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = not PRODUCTION  # http://localhost in development and tests
MFA_TRUST_ENABLED = True
# The longest any trust may choose; each trust's own number (Trust.trusted_browser_days) is checked at sign-in.
MFA_TRUST_COOKIE_AGE = datetime.timedelta(days=30)
SOCIALACCOUNT_AUTO_SIGNUP = False
# core.signin.adapters links a verified address from the trust's own provider to that member of staff, or refuses.
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_STORE_TOKENS = False
# Lockout: one username at one address. Cool-off in minutes.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"  # Redis in production, shared by every process
AXES_RESET_ON_SUCCESS = True
if not CACHE_URL:
    # run.sh's single web process: its own cache is shared by every request it serves (production has Redis).
    SILENCED_SYSTEM_CHECKS = ["axes.W001"]
AXES_LOCKOUT_CALLABLE = "core.signin.views.locked_out"
# Behind the production proxy the address is the last hop it adds; in development the socket's own.
AXES_IPWARE_PROXY_COUNT = env.int("AXES_PROXY_COUNT", default=1) if PRODUCTION else None
AXES_VERBOSE = False
# Sessions: signed out after this long without a request, and after this long whatever happens.
SESSION_IDLE_SECONDS = env.int("SESSION_IDLE_SECONDS", default=30 * 60)
SESSION_ABSOLUTE_SECONDS = env.int("SESSION_ABSOLUTE_SECONDS", default=12 * 60 * 60)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_SECONDS
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Roles that must pass a second factor before any page but setting one up.
SECOND_FACTOR_ROLES = ["DSL", "Principal", "Office", "Trust admin"]

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
