"""The one place that reads the environment."""

import os

DEV_SECRET_KEY = "dev-only-secret-key-change-me"
DEV_PASSWORD_SALT = "dev-only-password-salt-change-me"
DEV_TOTP_SECRET = "dev-only-totp-secret-change-me-0123456789"
DEV_CHECKPOINT_KEY = "dev-only-audit-checkpoint-key-change-me"


def from_environment() -> dict:
    env = os.environ
    return {
        # "production" refuses to start with the development secrets below.
        "CATALOG_ENV": env.get("CATALOG_ENV", "development"),
        # How many reverse proxies in front of the app set X-Forwarded-For/-Proto (0: none).
        "TRUSTED_PROXIES": int(env.get("TRUSTED_PROXIES", "0")),
        "SIGN_IN_WINDOW_MINUTES": 15,
        "SIGN_IN_MAX_FAILURES_PER_ACCOUNT": 5,
        "SIGN_IN_MAX_FAILURES_PER_ADDRESS": 20,
        # Wrong codes after one right password before the password has to be entered again.
        "SIGN_IN_MAX_SECOND_FACTOR_FAILURES": 3,
        # Firebase sign-in beside passwords (catalog/accounts/firebase.py): off while
        # FIREBASE_PROJECT_ID is empty. The web API key and the auth domain configure the
        # JavaScript SDK on the sign-in page (the key is public by Firebase's design); the
        # server checks ID tokens against Google's certificates at FIREBASE_CERTS_URL, which
        # only the tests point elsewhere. A token is taken for FIREBASE_MAX_AUTH_AGE seconds
        # after its sign-in at Google, so a token caught later cannot be replayed.
        "FIREBASE_PROJECT_ID": env.get("FIREBASE_PROJECT_ID", ""),
        "FIREBASE_API_KEY": env.get("FIREBASE_API_KEY", ""),
        "FIREBASE_AUTH_DOMAIN": env.get("FIREBASE_AUTH_DOMAIN", ""),
        "FIREBASE_CERTS_URL": env.get(
            "FIREBASE_CERTS_URL",
            "https://www.googleapis.com/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com",
        ),
        "FIREBASE_MAX_AUTH_AGE": int(env.get("FIREBASE_MAX_AUTH_AGE", "300")),
        # A token naming a key the cached certificates lack fetches them again, at most this
        # often (seconds): made-up key ids must not turn every request into a fetch.
        "FIREBASE_CERTS_REFRESH_SECONDS": float(env.get("FIREBASE_CERTS_REFRESH_SECONDS", "30")),
        "SECRET_KEY": env.get("SECRET_KEY", DEV_SECRET_KEY),
        # Empty means: start the embedded PostgreSQL under instance/.
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL", ""),
        # The role that owns the schema: `flask db upgrade` (and the audit archive move)
        # connect as it; web and worker processes never do. Empty: DATABASE_URL's role, the
        # single-role set-up that migration 0013 warns about (the embedded database has both).
        "DATABASE_OWNER_URL": env.get("DATABASE_OWNER_URL", ""),
        # Signed checkpoints of the audit hash chain (`flask catalog audit checkpoint`, and
        # hourly by a worker): the key must not be stored in the database, or whoever can
        # rewrite the chain could sign a checkpoint for it too.
        "AUDIT_CHECKPOINT_KEY": env.get("AUDIT_CHECKPOINT_KEY", DEV_CHECKPOINT_KEY),
        # A directory (empty: instance/audit-checkpoints); best on storage the database's
        # administrators cannot write (another machine, an append-only mount).
        "AUDIT_CHECKPOINT_DIR": env.get("AUDIT_CHECKPOINT_DIR", ""),
        # When workers write one (procrastinate's cron; minutes first). Empty: never.
        "AUDIT_CHECKPOINT_CRON": env.get("AUDIT_CHECKPOINT_CRON", "0 * * * *"),
        # "transaction" when DATABASE_URL goes through a pooler in transaction mode (PgBouncer,
        # deploy/pgbouncer.ini): see engine_options_for_pooler. Empty: a direct connection.
        "DATABASE_POOLER": env.get("DATABASE_POOLER", ""),
        "SQLALCHEMY_ENGINE_OPTIONS": {
            # Checked before use only after a rest (catalog/pool.py), not at every checkout.
            "pool_pre_ping": False,
            "connect_args": {
                "connect_timeout": int(env.get("DATABASE_CONNECT_TIMEOUT", "5")),
                # JIT compiling pays off for long analytic queries; here every query is
                # short, and the list's estimate (an EXPLAIN) cost 1-2 ms more with it.
                "options": "-c jit=off",
            },
        },
        "SECURITY_PASSWORD_SALT": env.get("SECURITY_PASSWORD_SALT", DEV_PASSWORD_SALT),
        "SECURITY_PASSWORD_HASH": "argon2",
        "SECURITY_TRACKABLE": True,
        "SECURITY_REGISTERABLE": False,
        "SECURITY_RECOVERABLE": False,
        "SECURITY_CHANGEABLE": True,
        "SECURITY_SEND_PASSWORD_CHANGE_EMAIL": False,
        "SECURITY_PASSWORD_LENGTH_MIN": 12,
        "SECURITY_TWO_FACTOR": True,
        "SECURITY_TWO_FACTOR_ENABLED_METHODS": ["authenticator"],
        "SECURITY_TWO_FACTOR_RESCUE_EMAIL": False,
        "SECURITY_TOTP_ISSUER": "Catalog",
        "SECURITY_TOTP_SECRETS": {"1": env.get("SECURITY_TOTP_SECRET", DEV_TOTP_SECRET)},
        "SECURITY_LOGOUT_METHODS": ["POST"],
        "SECURITY_DEFAULT_REMEMBER_ME": False,
        "SECURITY_REDIRECT_VALIDATE_MODE": "regex",
        "SECURITY_POST_LOGIN_VIEW": "/videos",
        "SECURITY_POST_LOGOUT_VIEW": "/login",
        "SECURITY_MSG_LOGIN": ("Please sign in to continue.", "info"),
        "SECURITY_FLASH_MESSAGES": True,
        # One answer whether or not the account exists (sign-in and password reset alike).
        "SECURITY_RETURN_GENERIC_RESPONSES": True,
        "SECURITY_MSG_GENERIC_AUTHN_FAILED": ("The email or the password is not right.", "error"),
        # Flask-Security's default writes "private=True, no-store=True", which no cache
        # understands; catalog.web.headers sends a valid "no-store" instead.
        "SECURITY_CACHE_CONTROL": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH", str(200 * 1024 * 1024))),
        "CATALOG_PAGE_SIZES": (25, 50, 100),
        # Report files (catalog/reports): a directory (empty: instance/reports) or, when
        # S3_BUCKET is set, an S3-compatible bucket under S3_PREFIX (S3_ENDPOINT_URL for
        # MinIO and the like; credentials from boto3's usual chain, e.g. AWS_ACCESS_KEY_ID).
        "REPORTS_DIR": env.get("REPORTS_DIR", ""),
        "S3_BUCKET": env.get("S3_BUCKET", ""),
        "S3_PREFIX": env.get("S3_PREFIX", "reports/"),
        "S3_ENDPOINT_URL": env.get("S3_ENDPOINT_URL", ""),
        "S3_REGION": env.get("S3_REGION", ""),
        # A report up to this size is checked while its upload waits; a larger one by a job.
        "REPORTS_INLINE_PREVIEW_BYTES": int(
            env.get("REPORTS_INLINE_PREVIEW_BYTES", str(8 * 1024 * 1024))
        ),
        # What a .csv.gz may unpack to, at most (a gzip bomb is refused, not imported).
        "REPORTS_MAX_UNCOMPRESSED_BYTES": int(
            env.get("REPORTS_MAX_UNCOMPRESSED_BYTES", str(4 * 1024**3))
        ),
        # The video library (catalog/library): an uploaded video file may be this large at
        # most (the upload form alone; MAX_CONTENT_LENGTH holds for every other request),
        # and ffprobe/ffmpeg may take this many seconds on one file.
        "LIBRARY_MAX_UPLOAD_BYTES": int(env.get("LIBRARY_MAX_UPLOAD_BYTES", str(2 * 1024**3))),
        "LIBRARY_PROBE_TIMEOUT": float(env.get("LIBRARY_PROBE_TIMEOUT", "600")),
        # The video list counts its matches exactly up to this many (a count that stops at
        # this + 1 rows); above it, it says "more than" this, with the planner's estimate.
        "LIST_EXACT_LIMIT": int(env.get("LIST_EXACT_LIMIT", "10000")),
        # YouTube Data API v3 (metadata_sync). The quota counts calls per UTC day across every
        # worker; videos.list costs 1 unit a call, and Google's default is 10,000 a day.
        "YOUTUBE_API_BASE_URL": env.get(
            "YOUTUBE_API_BASE_URL", "https://www.googleapis.com/youtube/v3"
        ),
        "YOUTUBE_API_KEY": env.get("YOUTUBE_API_KEY", ""),
        "YOUTUBE_DAILY_QUOTA": int(env.get("YOUTUBE_DAILY_QUOTA", "9500")),
        "YOUTUBE_MIN_DELAY": float(env.get("YOUTUBE_MIN_DELAY", "0.1")),
        # The rights source of ownership_update and asset_enrichment: a service answering the
        # JSON contract in catalog/youtube/rights.py (no public API gives these). Empty: not
        # configured, and those jobs fail saying so.
        "YOUTUBE_RIGHTS_API_URL": env.get("YOUTUBE_RIGHTS_API_URL", ""),
        "YOUTUBE_RIGHTS_API_KEY": env.get("YOUTUBE_RIGHTS_API_KEY", ""),
        # Notion, the source of production drafts (catalog/production/notion.py, sync.py).
        # Empty token or database id: not configured, and drafts are made in Catalog only.
        "NOTION_TOKEN": env.get("NOTION_TOKEN", ""),
        "NOTION_DATABASE_ID": env.get("NOTION_DATABASE_ID", ""),
        "NOTION_API_URL": env.get("NOTION_API_URL", "https://api.notion.com/v1"),
        # Notion allows an average of 3 requests per second per integration.
        "NOTION_REQUESTS_PER_SECOND": float(env.get("NOTION_REQUESTS_PER_SECOND", "3")),
        # Attempts per request (the first included) on 429 and 5xx answers; the n-th retry
        # after a 5xx waits NOTION_RETRY_WAIT * 2**n seconds, a 429 what Retry-After says.
        "NOTION_MAX_ATTEMPTS": int(env.get("NOTION_MAX_ATTEMPTS", "5")),
        "NOTION_RETRY_WAIT": float(env.get("NOTION_RETRY_WAIT", "1")),
        # The page property Catalog writes each task's status to, and its Notion type
        # ("select": missing options are created by Notion; "status": they must exist).
        "NOTION_STATUS_PROPERTY": env.get("NOTION_STATUS_PROPERTY", "Catalog status"),
        "NOTION_STATUS_PROPERTY_TYPE": env.get("NOTION_STATUS_PROPERTY_TYPE", "select"),
        # When workers run the sync (procrastinate's cron; minutes first). Empty: never.
        "NOTION_SYNC_CRON": env.get("NOTION_SYNC_CRON", "*/10 * * * *"),
        # Background jobs (catalog/jobs). Attempts in all, the first included; a failed
        # attempt waits JOB_RETRY_WAIT * 2**n seconds (at most JOB_RETRY_MAX_WAIT).
        "JOB_MAX_ATTEMPTS": int(env.get("JOB_MAX_ATTEMPTS", "5")),
        "JOB_RETRY_WAIT": float(env.get("JOB_RETRY_WAIT", "10")),
        "JOB_RETRY_MAX_WAIT": float(env.get("JOB_RETRY_MAX_WAIT", "3600")),
        # Jobs in parallel per worker process (each in its own thread and transaction).
        "JOB_WORKER_CONCURRENCY": int(env.get("JOB_WORKER_CONCURRENCY", "1")),
        # How often an idle worker looks for jobs besides being notified (seconds).
        "JOB_POLL_INTERVAL": float(env.get("JOB_POLL_INTERVAL", "5")),
        # A worker proves it is alive every JOB_HEARTBEAT_INTERVAL seconds; one silent for
        # JOB_STALLED_TIMEOUT is dead, and its running jobs are retried by another worker,
        # which looks for them every JOB_STALLED_CHECK_INTERVAL seconds.
        "JOB_HEARTBEAT_INTERVAL": float(env.get("JOB_HEARTBEAT_INTERVAL", "10")),
        "JOB_STALLED_TIMEOUT": float(env.get("JOB_STALLED_TIMEOUT", "60")),
        "JOB_STALLED_CHECK_INTERVAL": int(env.get("JOB_STALLED_CHECK_INTERVAL", "60")),
        # A worker that cannot reach the database (it restarts, the network is down) tries
        # again after JOB_RECONNECT_WAIT seconds, doubling up to JOB_RECONNECT_MAX_WAIT.
        "JOB_RECONNECT_WAIT": float(env.get("JOB_RECONNECT_WAIT", "1")),
        "JOB_RECONNECT_MAX_WAIT": float(env.get("JOB_RECONNECT_MAX_WAIT", "30")),
        # How long a worker waits for a connection of its own pool before it takes the
        # database for gone (the pool is sized so that nobody waits; psycopg_pool's default
        # is 30 s).
        "JOB_POOL_TIMEOUT": float(env.get("JOB_POOL_TIMEOUT", "5")),
        # Production pipeline workers: a claim is theirs for PIPELINE_LEASE_SECONDS after the
        # claim or their last heartbeat; then it goes back to the queue. Background workers
        # look for expired leases every PIPELINE_LEASE_CHECK_SECONDS (0: never); claims do
        # too, before claiming.
        "PIPELINE_LEASE_SECONDS": int(env.get("PIPELINE_LEASE_SECONDS", "300")),
        "PIPELINE_LEASE_CHECK_SECONDS": int(env.get("PIPELINE_LEASE_CHECK_SECONDS", "60")),
    }


POOLERS = ("", "transaction")


def engine_options_for_pooler(config) -> None:
    """Behind a pooler in transaction mode each transaction may run on another server
    connection, so nothing may outlive a transaction on one: psycopg's prepared statements
    (made after prepare_threshold executions, then reused on a connection that may no longer
    be the same) are turned off, and the `options` startup parameter, which PgBouncer 1.18
    refuses, goes; the pooler's connect_query sets what it set (deploy/pgbouncer.ini). The
    app keeps no other session state (no SET outside SET LOCAL, advisory locks only
    transaction-scoped, temporary tables ON COMMIT DROP, no LISTEN: only workers listen,
    and they connect directly)."""
    pooler = config.get("DATABASE_POOLER", "")
    if pooler not in POOLERS:
        raise RuntimeError(f"DATABASE_POOLER must be empty or 'transaction', not {pooler!r}.")
    if pooler != "transaction":
        return
    options = dict(config["SQLALCHEMY_ENGINE_OPTIONS"])
    connect_args = {k: v for k, v in options.get("connect_args", {}).items() if k != "options"}
    connect_args["prepare_threshold"] = None
    options["connect_args"] = connect_args
    config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def refuse_to_serve(config) -> None:
    """What `make serve` (deploy/gunicorn.conf.py) checks before it starts any worker: a real
    database and the production secrets."""
    if not config.get("SQLALCHEMY_DATABASE_URI"):
        refuse_embedded_database(config)
    refuse_development_secrets(config)


def refuse_embedded_database(config) -> None:
    """Production without DATABASE_URL would otherwise start a private PostgreSQL under
    instance/ and keep its data there, on one machine, outside every backup: refuse."""
    if config["CATALOG_ENV"] == "production":
        raise RuntimeError(
            "Refusing to start in production without a database: set DATABASE_URL in the "
            "environment (the embedded PostgreSQL under instance/ is for development only)."
        )


def refuse_development_secrets(config) -> None:
    """In production, starting with the development secrets would be a silent disaster."""
    if config["CATALOG_ENV"] != "production":
        return
    weak = [
        name
        for name, dev_value in (
            ("SECRET_KEY", DEV_SECRET_KEY),
            ("SECURITY_PASSWORD_SALT", DEV_PASSWORD_SALT),
        )
        if config.get(name) in (dev_value, "", None)
    ]
    if DEV_TOTP_SECRET in config["SECURITY_TOTP_SECRETS"].values():
        weak.append("SECURITY_TOTP_SECRET")
    if weak:
        raise RuntimeError(
            "Refusing to start in production with development secrets: set "
            + ", ".join(weak)
            + " in the environment."
        )
