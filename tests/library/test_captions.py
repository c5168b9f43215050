"""The WebVTT checker: valid files pass with their cue count; each broken one is refused
with the line that is wrong."""

import pytest

from catalog.library.captions import CaptionsError, check
from tests.media import CAPTIONS


def test_valid_captions_pass_with_their_cues():
    assert check(CAPTIONS.encode()) == 2


def test_notes_styles_identifiers_settings_and_hourless_timings_are_valid():
    text = (
        "\ufeffWEBVTT - a title\nKind: captions\n\nNOTE written by hand\nover two lines\n\n"
        "STYLE\n::cue { color: yellow }\n\n"
        "intro\n00:01.000 --> 00:02.500 align:start line:0\nHello\n\n"
        "01:00:00.000 --> 01:00:01.000\nAn hour in\n"
    )
    assert check(text.encode()) == 2


def test_windows_line_endings_are_valid():
    assert check(CAPTIONS.replace("\n", "\r\n").encode()) == 2


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("WEBVTX\n\n00:00:00.000 --> 00:00:01.000\nA\n", 1, 'start with "WEBVTT"'),
        ("WEBVTT\n\n00:00:00.000 -> 00:00:01.000\nA\n", 3, "needs a timing line"),
        ("WEBVTT\n\n00:00:00.000 --> 00:00:01.00\nA\n", 3, "is not"),
        ("WEBVTT\n\n00:00:61.000 --> 00:01:01.000\nA\n", 3, "is not"),
        ("WEBVTT\n\n00:00:02.000 --> 00:00:01.000\nA\n", 3, "start before it ends"),
        ("WEBVTT\n\n00:00:01.000 --> 00:00:01.000\nA\n", 3, "start before it ends"),
        (
            "WEBVTT\n\n00:00:05.000 --> 00:00:06.000\nA\n\n00:00:01.000 --> 00:00:02.000\nB\n",
            6,
            "before the cue above it",
        ),
        (
            "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nA\n00:00:03.000 --> 00:00:04.000\nB\n",
            5,
            "blank line must separate two cues",
        ),
        ("WEBVTT\n00:00:01.000 --> 00:00:02.000\nA\n", 2, "separate the header"),
        ("WEBVTT\n\nid only\n\n", 3, "needs a timing line"),
    ],
)
def test_a_broken_file_is_refused_naming_the_line(text, line, message):
    with pytest.raises(CaptionsError, match=message) as refused:
        check(text.encode())
    assert refused.value.line == line
    assert f"Line {line}: " in str(refused.value)
    assert refused.value.field == "captions"


def test_text_that_is_not_utf8_names_its_line():
    with pytest.raises(CaptionsError, match="not UTF-8") as refused:
        check(b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\ncaf\xe9\n")
    assert refused.value.line == 4
