"""Signed checkpoints of the audit hash chain, kept outside the database.

The hash chain (migration 0010) proves rows were not changed by someone who cannot also
recompute every later hash; the schema's owner can (disable the triggers, rewrite a row,
recompute the hashes after it, move the head). A checkpoint anchors the chain where the
database cannot reach: the head's position and hash, signed with HMAC-SHA256 under
AUDIT_CHECKPOINT_KEY (from the environment, never stored in the database), written as a file
to AUDIT_CHECKPOINT_DIR. `verify` then checks that the row at each checkpoint's position
still has the hash it vouched for, so a rewrite of anything up to the newest checkpoint is
reported, however carefully the hashes after it were recomputed.

Checkpoints are written on demand (`flask catalog audit checkpoint`) and hourly by the
workers (catalog.jobs.checkpoints); one is written only over a chain that verifies from
the checkpoint before it, so a checkpoint never vouches for a rewrite.
"""

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from catalog.config import DEV_CHECKPOINT_KEY

VERSION = 1
ROW_AT = text("""
SELECT row_hash FROM metadata_syncs WHERE chain_seq = :seq
UNION ALL
SELECT row_hash FROM metadata_syncs_archive WHERE chain_seq = :seq
""")


class CheckpointError(RuntimeError):
    """A checkpoint cannot be written or checked; the message says why, for operators."""


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    row_hash: bytes
    written_at: str
    name: str = ""

    def message(self) -> bytes:
        """What the signature covers: the version, the position, the hash and the time."""
        fields = (VERSION, self.seq, self.row_hash.hex(), self.written_at)
        return ":".join(["catalog-audit-checkpoint", *map(str, fields)]).encode()


@dataclass(frozen=True)
class Problem:
    """A checkpoint the chain does not match (or that is not genuine)."""

    seq: int
    reason: str


def directory(app: Flask) -> Path:
    """Where this database's checkpoints live: AUDIT_CHECKPOINT_DIR (or
    instance/audit-checkpoints), a folder per database name, so that checkpoints of other
    databases (a test's, a staging copy's) written beside them are never taken for its own."""
    base = app.config["AUDIT_CHECKPOINT_DIR"] or os.path.join(
        app.instance_path, "audit-checkpoints"
    )
    database = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database or "default"
    return Path(base) / database


def _key(app: Flask) -> bytes:
    key = app.config.get("AUDIT_CHECKPOINT_KEY") or ""
    if not key:
        raise CheckpointError("Set AUDIT_CHECKPOINT_KEY: checkpoints are signed with it.")
    if app.config["CATALOG_ENV"] == "production" and key == DEV_CHECKPOINT_KEY:
        raise CheckpointError(
            "AUDIT_CHECKPOINT_KEY is the development key: set a secret one in production."
        )
    return key.encode()


def _sign(key: bytes, checkpoint: Checkpoint) -> str:
    return hmac.new(key, checkpoint.message(), hashlib.sha256).hexdigest()


def read_all(app: Flask) -> tuple[list[Checkpoint], list[Problem]]:
    """The genuine checkpoints, in order of position, and a Problem for each file that is
    not one (unreadable, or its signature does not hold under the key)."""
    key = _key(app)
    found, problems = [], []
    folder = directory(app)
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            data = json.loads(path.read_text())
            checkpoint = Checkpoint(
                int(data["seq"]), bytes.fromhex(data["hash"]), str(data["written_at"]), path.name
            )
            signature = str(data["signature"])
        except (OSError, ValueError, KeyError, TypeError):
            problems.append(Problem(0, f"checkpoint {path.name} cannot be read"))
            continue
        if not hmac.compare_digest(signature, _sign(key, checkpoint)):
            problems.append(
                Problem(
                    checkpoint.seq,
                    f"checkpoint {path.name} has a bad signature (altered, or not signed "
                    "with AUDIT_CHECKPOINT_KEY)",
                )
            )
            continue
        found.append(checkpoint)
    return sorted(found, key=lambda c: c.seq), problems


def check(app: Flask, connection: Connection, head_seq: int) -> tuple[int, list[Problem]]:
    """Check every checkpoint against the chain as `connection` sees it (verify's snapshot):
    how many hold, and the problems, the lowest position first."""
    checkpoints, problems = read_all(app)
    held = 0
    for checkpoint in checkpoints:
        where = f"checkpoint {checkpoint.name} (position {checkpoint.seq})"
        if checkpoint.seq > head_seq:
            problems.append(
                Problem(
                    checkpoint.seq,
                    f"{where}: the chain ends at position {head_seq}, before it (rows were "
                    "removed)",
                )
            )
            continue
        hashes = connection.scalars(ROW_AT, {"seq": checkpoint.seq}).all()
        if hashes != [checkpoint.row_hash]:
            problems.append(
                Problem(
                    checkpoint.seq,
                    f"{where}: the row there no longer has the hash the checkpoint vouched "
                    "for (the chain was rewritten and its hashes recomputed)",
                )
            )
            continue
        held += 1
    return held, sorted(problems, key=lambda p: p.seq)


def latest(app: Flask) -> Checkpoint | None:
    checkpoints, _ = read_all(app)
    return checkpoints[-1] if checkpoints else None


def write(app: Flask, seq: int, row_hash: bytes) -> Checkpoint:
    """Sign and write a checkpoint of position `seq` with hash `row_hash`. The file appears
    whole or not at all (written aside, then renamed)."""
    key = _key(app)
    now = datetime.now(UTC)
    checkpoint = Checkpoint(
        seq, row_hash, now.isoformat(), f"{seq:015d}-{now:%Y%m%dT%H%M%S%fZ}.json"
    )
    folder = directory(app)
    folder.mkdir(parents=True, exist_ok=True)
    body = {
        "version": VERSION,
        "seq": checkpoint.seq,
        "hash": checkpoint.row_hash.hex(),
        "written_at": checkpoint.written_at,
        "signature": _sign(key, checkpoint),
    }
    aside = folder / f".{checkpoint.name}.tmp"
    aside.write_text(json.dumps(body, indent=2) + "\n")
    os.replace(aside, folder / checkpoint.name)
    return checkpoint
