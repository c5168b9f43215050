"""How changes read: labels, values, list and word diffs (catalog/changes/diffs.py)."""

from catalog.changes import diffs
from catalog.changes.diffs import ADDED, GAP, REMOVED, SAME, field_change, field_changes, word_diff


def rebuilt(tokens, side: str) -> str:
    keep = {SAME, REMOVED} if side == "old" else {SAME, ADDED}
    return "".join(text for kind, text in tokens if kind in keep)


def test_word_diff_marks_the_replaced_word_and_keeps_the_rest():
    tokens = word_diff("The quick brown fox jumps", "The quick brown fox leaps")
    assert tokens == (("same", "The quick brown fox "), ("removed", "jumps"), ("added", "leaps"))


def test_word_diff_without_context_cut_gives_both_texts_back():
    old = "First line, with <b>markup</b> & more.\nSecond line stays here.\nThird one goes."
    new = "First line with <i>markup</i> & more!\nSecond line stays here.\nA new third one."
    tokens = word_diff(old, new, context=False)
    assert rebuilt(tokens, "old") == old
    assert rebuilt(tokens, "new") == new
    assert {kind for kind, _ in tokens} == {SAME, REMOVED, ADDED}


def test_long_unchanged_stretches_are_cut_around_the_edits():
    middle = " ".join(f"word{i}" for i in range(40))
    old = f"Start {middle} old ending"
    new = f"Begin {middle} new ending"
    tokens = word_diff(old, new)
    assert tokens[0] == (REMOVED, "Start")
    assert tokens[1] == (ADDED, "Begin")
    gaps = [text for kind, text in tokens if kind == GAP]
    assert gaps == ["…"]
    kept = rebuilt(tokens, "old")
    # Six words of context after the first edit and before the second, not the forty.
    assert "word0 word1 word2 word3 word4" in kept
    assert "word20" not in kept
    assert "word35 word36 word37 word38 word39" in kept
    assert tokens[-3:] == ((REMOVED, "old"), (ADDED, "new"), (SAME, " ending"))


def test_short_unchanged_stretches_are_not_cut():
    # Eight words before the edit, fourteen between two edits: cutting would save little.
    old = "a b c d e f g h X i j k l m n o p q r s t u v Y"
    new = "a b c d e f g h 1 i j k l m n o p q r s t u v 2"
    tokens = word_diff(old, new)
    assert GAP not in {kind for kind, _ in tokens}
    assert rebuilt(tokens, "old") == old
    # Ten words before the edit are cut to the six next to it.
    tokens = word_diff("a b c d e f g h i j X", "a b c d e f g h i j Y")
    assert tokens[:2] == ((GAP, "…"), (SAME, " e f g h i j "))


def test_long_texts_get_a_word_diff_short_ones_side_by_side():
    long_old = "This note is long enough to be compared word by word rather than whole."
    long_new = "This note is long enough to be compared word for word rather than whole."
    change = field_change("notes", [long_old, long_new])
    assert change.kind == "text"
    assert (REMOVED, "by") in change.tokens
    assert (ADDED, "for") in change.tokens
    assert field_change("title", ["Short", "Shorter"]).kind == "value"
    # Several lines read as a diff however short they are.
    assert field_change("notes", ["a\nb", "a\nc"]).kind == "text"
    # Setting or clearing a long text is a plain before/after.
    assert field_change("notes", [None, long_new]).kind == "value"


def test_lists_show_what_was_added_and_removed():
    change = field_change("artist", [["Ann", "Bob"], ["Bob", "Cy", "Di"]])
    assert change.kind == "list"
    assert change.removed == ("Ann",)
    assert change.added == ("Cy", "Di")
    assert field_change("genre", [None, ["Pop"]]).added == ("Pop",)


def test_custom_field_keys_read_as_their_names():
    assert diffs.field_label("field:Mood") == ("Mood", True)
    assert diffs.field_label("privacy_status") == ("privacy status", False)
    labels = [(c.label, c.custom) for c in field_changes(
        {"field:Rating": [1, 2], "title": ["a", "b"], "claimed_status": ["x", "y"]}
    )]  # fmt: skip
    assert labels == [("claimed status", False), ("title", False), ("Rating", True)]


def test_values_display_readably():
    assert diffs.display(True) == "Yes"
    assert diffs.display(["a", "b"]) == "a, b"
    assert diffs.display({"user": 3, "from": "2026-01-01"}) == "from: 2026-01-01; user: 3"
    assert diffs.display(None) == ""
    assert diffs.as_json({"b": 1, "a": "x"}) == '{"a": "x", "b": 1}'


def test_a_malformed_entry_is_shown_not_dropped():
    change = field_change("odd", "just a value")
    assert (change.old, change.new, change.kind) == (None, "just a value", "value")
