"""The password policy: Flask-Security's length rules (12 to 128 characters) plus a refusal of
common passwords, checked against a list shipped with the project (no network look-up).

Flask-Security calls `validate` wherever a password is chosen (its change-password page), and
so do the account forms here, so there is one policy for every path."""

from functools import cache
from pathlib import Path
from typing import Any

from flask_security import PasswordUtil

COMMON_PASSWORDS = Path(__file__).with_name("common_passwords.txt")
TOO_COMMON = "This password is too common; choose another."


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list, read on first use and kept for the life of the process."""
    with COMMON_PASSWORDS.open(encoding="utf-8") as lines:
        return frozenset(
            line.strip() for line in lines if line.strip() and not line.startswith("#")
        )


def is_common(password: str) -> bool:
    return password.lower() in common_passwords()


class CatalogPasswordUtil(PasswordUtil):
    def validate(self, password: str, is_register: bool, **kwargs: Any) -> tuple[list | None, str]:
        problems, normalized = super().validate(password, is_register, **kwargs)
        if is_common(normalized):
            problems = [*(problems or []), TOO_COMMON]
        return problems, normalized
