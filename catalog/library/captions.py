"""A small, strict WebVTT checker: what browsers need to show captions, checked before the
file is stored, so an editor hears of a broken cue at once and by its line number.

Checked: the file is UTF-8 text starting with "WEBVTT" (then a space, a tab or the end of
the line); after the header, blocks separated by blank lines; NOTE, STYLE and REGION blocks
are skipped; a cue is an optional identifier line, then a timing line
"hh:mm:ss.mmm --> hh:mm:ss.mmm" (hours optional, minutes and seconds below 60, settings
may follow), then its text; each cue starts before it ends, and no later than the cue
before it starts (the order the specification requires).
"""

import re

from catalog.rules import RuleError

MAX_BYTES = 2 * 1024 * 1024  # captions of a feature film are well under this
TIMESTAMP = r"(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})"
TIMING = re.compile(rf"^{TIMESTAMP}[ \t]+-->[ \t]+{TIMESTAMP}(?:[ \t]+.*)?$")
HEADER = re.compile(r"^\ufeff?WEBVTT(?:[ \t].*)?$")
SKIPPED_BLOCKS = ("NOTE", "STYLE", "REGION")


class CaptionsError(RuleError):
    """The captions are not valid WebVTT; the message names the line."""

    def __init__(self, message: str, line: int | None = None):
        where = f"Line {line}: " if line else ""
        super().__init__(f"The captions are not valid WebVTT. {where}{message}", "captions")
        self.line = line


def _seconds(hours: str | None, minutes: str, seconds: str, millis: str) -> float:
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(millis) / 1000


def check(data: bytes) -> int:
    """The number of cues in `data`; CaptionsError naming the first wrong line."""
    if len(data) > MAX_BYTES:
        raise CaptionsError(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CaptionsError("This is not UTF-8 text.", line) from None
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not HEADER.match(lines[0]):
        raise CaptionsError('The file must start with "WEBVTT".', 1)
    number = 1
    # The header block runs to the first blank line.
    while number < len(lines) and lines[number].strip():
        if "-->" in lines[number]:
            raise CaptionsError("A blank line must separate the header from the cues.", number + 1)
        number += 1
    cues, previous_start = 0, 0.0
    while number < len(lines):
        if not lines[number].strip():
            number += 1
            continue
        block_start = number
        block = []
        while number < len(lines) and lines[number].strip():
            block.append(lines[number])
            number += 1
        if block[0].split(" ", 1)[0].split("\t", 1)[0] in SKIPPED_BLOCKS and "-->" not in block[0]:
            continue
        timing_index = 0 if "-->" in block[0] else 1
        if timing_index >= len(block) or "-->" not in block[timing_index]:
            raise CaptionsError(
                'A cue needs a timing line "00:00:01.000 --> 00:00:02.000".', block_start + 1
            )
        line = block_start + timing_index + 1
        match = TIMING.match(block[timing_index].strip())
        if not match:
            raise CaptionsError(
                f'The cue timing "{block[timing_index].strip()[:80]}" is not '
                '"hh:mm:ss.mmm --> hh:mm:ss.mmm".',
                line,
            )
        start, end = _seconds(*match.groups()[:4]), _seconds(*match.groups()[4:])
        if start >= end:
            raise CaptionsError("The cue must start before it ends.", line)
        if start < previous_start:
            raise CaptionsError("The cue starts before the cue above it.", line)
        for index in range(timing_index + 1, len(block)):
            if "-->" in block[index]:
                raise CaptionsError("A blank line must separate two cues.", block_start + index + 1)
        previous_start = start
        cues += 1
    return cues
