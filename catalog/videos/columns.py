"""The video list's columns: their keys (the header's class `col-<key>`, the keys the column
chooser keeps), in the order the user (or the saved view) keeps, and which edit in place."""

from catalog.videos.cells import CUSTOM_TYPES, VIDEO_COLUMNS

# The video's own columns, in their default order; the card fields' columns come after
# them and "changed" (the last change) last.
BUILT_IN = (
    ("video_id", "Video id"), ("title", "Title"), ("channel", "Channel"),
    ("artist", "Artists"), ("category", "Category"), ("claim", "Claim"),
    ("privacy", "Privacy"), ("views", "Views"), ("notes", "Notes"),
)  # fmt: skip
UNSORTED = ("notes",)


def ordered(order: list | None, card_fields: list) -> list[tuple]:
    """(key, label, kind, field, a rating's maximum or None, sortable, edits in place) of
    every column, in `order` (the keys a user or view keeps; unknown ones are skipped,
    columns it does not name keep their default place after those it names)."""
    columns = {
        key: (key, label, key, None, None, key not in UNSORTED, key in VIDEO_COLUMNS)
        for key, label in BUILT_IN
    }
    for field in card_fields:
        key = f"cf{field.id}"
        top = field.max_rating if field.field_type == "rating" else None
        kind = "bool" if field.field_type == "boolean" else "cf"
        columns[key] = (
            key, field.name, kind, field, top, kind != "bool", field.field_type in CUSTOM_TYPES,
        )  # fmt: skip
    columns["changed"] = ("changed", "Last change", "changed", None, None, True, False)
    named = [key for key in (order or []) if isinstance(key, str) and key in columns]
    return [columns[key] for key in dict.fromkeys([*named, *columns])]
