"""Real media files for the library's tests, made with Debian's ffmpeg: a short test
pattern with a tone, as MP4 (H.264/AAC, moov atom first) or WebM (VP9/Opus), and a WebVTT
file with two cues. Small and quick to make: 5 seconds at 320x240."""

import subprocess
from pathlib import Path

CODECS = {
    "mp4": ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-movflags", "+faststart"],
    "webm": ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8",
             "-c:a", "libopus"],
}  # fmt: skip


def make_video(path: Path, *, seconds: float = 5, container: str = "mp4") -> Path:
    """A `seconds` long video of ffmpeg's test pattern with a 440 Hz tone, at `path`."""
    if container not in CODECS:
        raise ValueError(f"container is mp4 or webm, not {container!r}")
    command = [
        "ffmpeg", "-v", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc=duration={seconds}:size=320x240:rate=25",
        "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
        *CODECS[container], "-shortest", "-f", container, str(path),
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, timeout=120)  # noqa: S603  (fixed)
    return path


CAPTIONS = """WEBVTT

00:00:00.000 --> 00:00:02.000
The test pattern begins.

00:00:02.500 --> 00:00:04.500
A tone at 440 Hz.
"""


def make_captions(path: Path) -> Path:
    """A valid WebVTT file with two cues, at `path`."""
    path.write_text(CAPTIONS, encoding="utf-8")
    return path
