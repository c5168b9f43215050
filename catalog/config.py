"""The one place that reads the environment."""

import os

DEV_SECRET_KEY = "dev-only-secret-key-change-me"
DEV_PASSWORD_SALT = "dev-only-password-salt-change-me"
DEV_TOTP_SECRET = "dev-only-totp-secret-change-me-0123456789"


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
        "SECRET_KEY": env.get("SECRET_KEY", DEV_SECRET_KEY),
        # Empty means: start the embedded PostgreSQL under instance/.
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL", ""),
        "SQLALCHEMY_ENGINE_OPTIONS": {
            "pool_pre_ping": True,
            "connect_args": {"connect_timeout": int(env.get("DATABASE_CONNECT_TIMEOUT", "5"))},
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
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH", str(200 * 1024 * 1024))),
        "CATALOG_PAGE_SIZES": (25, 50, 100),
    }
