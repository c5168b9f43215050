"""How an audit row's changes read: each field's label, its old and new value, what a list
gained and lost, and for long texts a word-level diff.

Everything here is plain data (strings and tuples of (kind, text) tokens); the templates
render it with autoescaping on, so no value from a change ever becomes markup."""

import difflib
import json
import re
from dataclasses import dataclass
from typing import Any

# A text longer than this (or on several lines) reads better as a word diff than side by side.
LONG_TEXT = 60
# Unchanged words kept on each side of an edit; longer unchanged runs are cut to a gap.
CONTEXT_WORDS = 6
# Beyond this length a word diff costs more than it helps (difflib is quadratic at worst):
# such texts are shown whole, side by side.
MAX_DIFF_CHARS = 20_000
CUSTOM_PREFIX = "field:"
# A video's fields that hold another row's id read as that row: "category: Pop → Shorts".
REFERENCE_LABELS = {"channel_id": "channel", "category_id": "category"}

# Words, runs of whitespace, and single other characters: joined back, they are the text.
_TOKEN = re.compile(r"\w+|\s+|[^\w\s]", re.UNICODE)

# Token kinds: unchanged text, removed text, added text, and a cut-out unchanged run.
SAME, REMOVED, ADDED, GAP = "same", "removed", "added", "gap"


@dataclass(frozen=True)
class FieldChange:
    """One field of one audit row, ready to render.

    kind: "value" (old and new side by side), "list" (items removed and added), "text"
    (a word diff in `tokens`)."""

    key: str
    label: str
    custom: bool
    kind: str
    old: Any
    new: Any
    removed: tuple = ()
    added: tuple = ()
    tokens: tuple[tuple[str, str], ...] = ()


def field_label(key: str, entity_type: str = "video") -> tuple[str, bool]:
    """A change's key as people read it, and whether it names a custom field
    ("field:Mood" → ("Mood", True); "privacy_status" → ("privacy status", False);
    a video's "category_id" → ("category", False): its values are shown by name)."""
    if key.startswith(CUSTOM_PREFIX) and len(key) > len(CUSTOM_PREFIX):
        return key[len(CUSTOM_PREFIX) :], True
    if entity_type == "video" and key in REFERENCE_LABELS:
        return REFERENCE_LABELS[key], False
    return key.replace("_", " "), False


def display(value: Any) -> str:
    """A stored value as text: lists joined, booleans as Yes/No, mappings as key: value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list | tuple):
        return ", ".join(display(item) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{key}: {display(item)}" for key, item in sorted(value.items()))
    return str(value)


def is_empty(value: Any) -> bool:
    return value is None or value in ("", [], {})


def _is_list(value: Any) -> bool:
    return isinstance(value, list | tuple)


def _is_long(text: str) -> bool:
    return len(text) > LONG_TEXT or "\n" in text


def _merge(tokens: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """Adjacent tokens of the same kind as one."""
    merged: list[tuple[str, str]] = []
    for kind, text in tokens:
        if not text:
            continue
        if merged and merged[-1][0] == kind:
            merged[-1] = (kind, merged[-1][1] + text)
        else:
            merged.append((kind, text))
    return tuple(merged)


def _words(tokens: list[str]) -> int:
    return sum(1 for token in tokens if not token.isspace())


def _keep_first(tokens: list[str], words: int) -> list[str]:
    kept, seen = [], 0
    for token in tokens:
        if not token.isspace():
            if seen == words:
                break
            seen += 1
        kept.append(token)
    return kept


def _context(run: list[str], *, leading: bool, trailing: bool) -> list[tuple[str, str]]:
    """An unchanged run, cut to CONTEXT_WORDS next to the edits around it."""
    # Cutting out only a word or two saves nothing: keep such runs whole.
    if _words(run) <= CONTEXT_WORDS * (int(leading) + int(trailing)) + 3:
        return [(SAME, "".join(run))]
    head = _keep_first(run, CONTEXT_WORDS) if leading else []
    tail = _keep_first(run[::-1], CONTEXT_WORDS)[::-1] if trailing else []
    return [(SAME, "".join(head)), (GAP, "…"), (SAME, "".join(tail))]


def word_diff(old: str, new: str, context: bool = True) -> tuple[tuple[str, str], ...]:
    """The tokens that turn `old` into `new`, word by word: (kind, text) with kind one of
    "same", "removed", "added", "gap" (an unchanged stretch left out). Joining the "same"
    and "removed" texts gives `old` back, "same" and "added" gives `new` (without gaps)."""
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    opcodes = matcher.get_opcodes()
    tokens: list[tuple[str, str]] = []
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            run = a[i1:i2]
            if context:
                leading = index > 0  # an edit before it: keep its start
                trailing = index < len(opcodes) - 1  # an edit after it: keep its end
                tokens += _context(run, leading=leading, trailing=trailing)
            else:
                tokens.append((SAME, "".join(run)))
            continue
        if tag in ("delete", "replace"):
            tokens.append((REMOVED, "".join(a[i1:i2])))
        if tag in ("insert", "replace"):
            tokens.append((ADDED, "".join(b[j1:j2])))
    return _merge(tokens)


def _list_change(key: str, old: Any, new: Any, entity_type: str) -> FieldChange:
    label, custom = field_label(key, entity_type)
    old_items, new_items = list(old or []), list(new or [])
    removed = tuple(item for item in old_items if item not in new_items)
    added = tuple(item for item in new_items if item not in old_items)
    return FieldChange(key, label, custom, "list", old, new, removed, added)


def field_change(key: str, pair: Any, entity_type: str = "video") -> FieldChange:
    """One entry of `changes` ({"field": [old, new]}) of an `entity_type` as a FieldChange."""
    old, new = pair if _is_list(pair) and len(pair) == 2 else (None, pair)
    label, custom = field_label(key, entity_type)
    if (_is_list(old) or old is None) and (_is_list(new) or new is None) and (old or new):
        return _list_change(key, old, new, entity_type)
    if (
        isinstance(old, str) and isinstance(new, str) and old and new
        and (_is_long(old) or _is_long(new)) and len(old) + len(new) <= MAX_DIFF_CHARS
    ):  # fmt: skip
        return FieldChange(key, label, custom, "text", old, new, tokens=word_diff(old, new))
    return FieldChange(key, label, custom, "value", old, new)


def field_changes(changes: dict | None, entity_type: str = "video") -> list[FieldChange]:
    """Every field of an audit row's `changes`, in the order of their labels."""
    found = [field_change(str(key), pair, entity_type) for key, pair in (changes or {}).items()]
    return sorted(found, key=lambda change: (change.custom, change.label.lower(), change.key))


def as_json(value: Any) -> str:
    """A value for a CSV cell or a title: JSON for mappings, readable text otherwise."""
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return display(value)
