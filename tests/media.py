"""Real media files for the library's tests, made with ffmpeg (Debian's package, installed
by the Makefile's system-deps target): a short test-pattern video with a tone, and WebVTT
captions."""

import shutil
import subprocess
from pathlib import Path

FFMPEG = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"
# Container → (video codec options, audio codec options).
CODECS = {
    "mp4": (["-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "veryfast"],
            ["-c:a", "aac", "-b:a", "64k", "-movflags", "+faststart"]),
    "webm": (["-c:v", "libvpx-vp9", "-b:v", "200k", "-deadline", "realtime", "-cpu-used", "8"],
             ["-c:a", "libopus", "-b:a", "48k"]),
}  # fmt: skip


def make_video(path: Path, *, seconds: float = 5, container: str = "mp4") -> Path:
    """A `seconds`-long 320x240 test pattern with a 440 Hz tone: H.264/AAC with the index at
    the front (+faststart) for "mp4", VP9/Opus for "webm"."""
    video, audio = CODECS[container]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(  # noqa: S603  (the system's ffmpeg, fixed arguments)
        [
            FFMPEG, "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc=duration={seconds}:size=320x240:rate=25",
            "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
            *video, *audio, "-shortest", "-f", container, str(path),
        ],
        check=True,
        timeout=120,
    )  # fmt: skip
    return path


CAPTIONS = """WEBVTT

00:00:00.000 --> 00:00:02.000
The first caption

00:00:02.000 --> 00:00:04.500
The second caption
"""


def make_captions(path: Path) -> Path:
    """A valid WebVTT file with two cues."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(CAPTIONS, encoding="utf-8")
    return path
