"""Keyset pagination cursors: an opaque, URL-safe token for a row's (sort key, id)."""

import base64
import binascii
import json
from datetime import datetime
from decimal import Decimal
from typing import Any


def encode_cursor(key: Any, row_id: int) -> str:
    if isinstance(key, datetime):
        key = {"t": key.isoformat()}
    elif isinstance(key, Decimal):  # a rating: JSON keeps it as a number
        key = int(key) if key == key.to_integral_value() else float(key)
    raw = json.dumps([key, row_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str) -> tuple[Any, int] | None:
    """The (sort key, id) a cursor points at, or None when it is not one of ours."""
    try:
        key, row_id = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if isinstance(key, dict):
            key = datetime.fromisoformat(key["t"])
    except (ValueError, TypeError, KeyError, binascii.Error):
        return None
    if not isinstance(row_id, int) or not isinstance(key, str | int | float | datetime):
        return None
    return key, row_id
