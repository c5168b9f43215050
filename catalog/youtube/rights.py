"""The rights source: claims (ownership_update) and asset metadata (asset_enrichment).

WHAT IS REAL AND WHAT IS A CONTRACT. YouTube publishes no public API for this. The data lives
in Content ID (the YouTube Content ID API, `youtubePartner` v1: claimSearch, assets), which
only Content Manager accounts may call, with OAuth on behalf of a content owner, and in the
claims and asset reports Content Manager produces. Neither is reachable from here. So this is
a JSON contract of our own, in the YouTube Data API's shape (same batching, `key` parameter
and error format), which a small service in front of the real source answers: an adapter over
the Content ID API, or over the latest claims/asset reports. Field names follow the Content
ID API's asset Metadata (isrc, upc, genre, artist, label) where it has them. Tests run it
against a local fake server; nothing in this repository implements the service itself.

Contract v1. Base URL: YOUTUBE_RIGHTS_API_URL; key: YOUTUBE_RIGHTS_API_KEY, sent as `key`.

    GET {base}/ownership?id=VIDEO_ID,VIDEO_ID,...    (at most 50 YouTube video ids)
    200 {"kind": "catalog#ownershipListResponse",
         "items": [{"kind": "catalog#ownership",
                    "id": "VIDEO_ID",
                    "claimedStatus": "claim" | "appeal" | "dispute" | null,
                    "claimedByAnotherOwner": true | false | null,
                    "otherOwnersClaiming": ["Owner name", ...] | null}]}

    GET {base}/assets?id=VIDEO_ID,...                (at most 50 YouTube video ids)
    200 {"kind": "catalog#assetListResponse",
         "items": [{"kind": "catalog#asset",
                    "id": "VIDEO_ID",
                    "assetId": "A123456789012345",
                    "metadata": {"isrc": "USRC17607839", "upc": "00602537518357",
                                 "genre": ["Pop"], "artist": ["..."], "label": "..."}}]}

    Errors: {"error": {"code": n, "message": "...", "errors": [{"reason": "...", ...}]}},
    with reason "quotaExceeded" when the source wants no more calls today.

Semantics. A video the source does not know is absent from `items` and left alone. A field
absent from an item is unknown and left alone. For ownership, null means "none" and clears
the field (a claim released is news). Asset enrichment only fills or corrects: an empty value
never clears what the catalog has. A value that cannot be stored (an ISRC that is not 12
characters, an over-long label) is skipped and reported in the job's result, never truncated.
"""

import re
from typing import Any

from catalog.identifiers import valid_isrc, valid_upc
from catalog.models.video import CLAIM_STATUSES

OWNERSHIP_PATH = "ownership"
ASSETS_PATH = "assets"

LENGTHS = {"asset_id": 50, "label": 200, "genre": 100, "artist": 200}


def _yes_no(value: Any) -> str | None:
    return None if value is None else ("Yes" if value else "No")


def ownership_values(item: dict) -> tuple[dict[str, Any], list[str]]:
    """The claim fields an ownership item gives, and warnings about values it could not use."""
    values: dict[str, Any] = {}
    warnings: list[str] = []
    if "claimedStatus" in item:
        status = item["claimedStatus"]
        if status is None or status in CLAIM_STATUSES:
            values["claimed_status"] = status
        else:
            warnings.append(f"unknown claimedStatus {status!r}")
    if "claimedByAnotherOwner" in item:
        values["claimed_by_another_owner"] = _yes_no(item["claimedByAnotherOwner"])
    if "otherOwnersClaiming" in item:
        owners = item["otherOwnersClaiming"]
        if isinstance(owners, list):
            owners = ", ".join(str(owner).strip() for owner in owners if str(owner).strip())
        values["other_owners_claiming"] = owners or None
    return values, warnings


def _text(value: Any, field: str, warnings: list[str]) -> str | None:
    text = str(value).strip() if value is not None else ""
    if text and len(text) > LENGTHS[field]:
        warnings.append(f"{field} longer than {LENGTHS[field]} characters")
        return None
    return text or None


def _texts(value: Any, field: str, warnings: list[str]) -> list[str]:
    items = value if isinstance(value, list) else [value]
    kept = [text for text in (_text(item, field, warnings) for item in items) if text]
    return list(dict.fromkeys(kept))


def asset_values(item: dict) -> tuple[dict[str, Any], list[str]]:
    """The identifiers and music metadata an asset item gives (non-empty ones only)."""
    values: dict[str, Any] = {}
    warnings: list[str] = []
    metadata = item.get("metadata") or {}
    if asset_id := _text(item.get("assetId"), "asset_id", warnings):
        values["asset_id"] = asset_id
    if isrc := re.sub(r"[\s-]", "", str(metadata.get("isrc") or "")).upper():
        if valid_isrc(isrc):
            values["isrc"] = isrc
        else:
            warnings.append(f"invalid ISRC {metadata['isrc']!r}")
    if upc := re.sub(r"[\s-]", "", str(metadata.get("upc") or "")):
        if valid_upc(upc):
            values["upc"] = upc
        else:
            warnings.append(f"invalid UPC {metadata['upc']!r}")
    for field in ("genre", "artist"):
        if texts := _texts(metadata.get(field), field, warnings):
            values[field] = texts
    if label := _text(metadata.get("label"), "label", warnings):
        values["label"] = label
    return values, warnings
