"""ffprobe on real files: what a playable video gives, and why each bad file is refused."""

import io
import re

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from catalog.library import probe
from catalog.reports.storage import S3Storage


@pytest.fixture
def app_context(app):
    with app.app_context():
        yield


@pytest.mark.parametrize(
    ("name", "codecs"), [("clip.mp4", ("h264", "aac")), ("clip.webm", ("vp9", "opus"))]
)
def test_a_playable_video_is_measured(app_context, media, name, codecs):
    found = probe.probe(media[name], "." + name.rsplit(".", 1)[1])
    assert found.duration_seconds == pytest.approx(5.0, abs=0.05)
    assert (found.width, found.height) == (320, 240)
    assert (found.video_codec, found.audio_codec) == codecs


@pytest.mark.parametrize(
    ("name", "suffix", "reason"),
    [
        ("notes.mp4", ".mp4", "ffprobe cannot read this as MP4 video"),
        ("cut.mp4", ".mp4", "cut short (truncated)"),
        ("sound.mp4", ".mp4", "no video stream"),
        ("clip.webm", ".mp4", "ffprobe cannot read this as MP4 video"),  # a WebM renamed
        ("clip.mp4", ".webm", "ffprobe cannot read this as WebM video"),
    ],
)
def test_a_file_that_will_not_play_is_refused_with_the_reason(
    app_context, media, name, suffix, reason
):
    with pytest.raises(probe.NotPlayable, match=re.escape(reason)):
        probe.probe(media[name], suffix)


def test_a_thumbnail_is_cut_from_the_video(app_context, media, tmp_path):
    out = tmp_path / "thumb.jpg"
    probe.cut_thumbnail(media["clip.mp4"], ".mp4", 5.0, out)
    assert out.read_bytes()[:3] == b"\xff\xd8\xff"  # a JPEG


def test_a_playlist_named_mp4_is_not_followed(app_context, media, tmp_path):
    """An HLS playlist or concat list would make ffprobe open what it names: the container's
    own demuxer is forced, so it is just a file that is not an MP4."""
    for text in (
        f"#EXTM3U\n#EXT-X-TARGETDURATION:5\n#EXTINF:5,\nfile:{media['clip.mp4']}\n#EXT-X-ENDLIST\n",
        f"ffconcat version 1.0\nfile '{media['clip.mp4']}'\n",
    ):
        playlist = tmp_path / "playlist.mp4"
        playlist.write_text(text)
        with pytest.raises(probe.NotPlayable, match="cannot read this as MP4 video"):
            probe.probe(playlist, ".mp4")


def test_a_file_in_s3_is_probed_from_a_local_copy(app_context, media):
    """S3Storage: the object is copied to a temporary file in chunks, probed, and the copy
    removed (botocore's Stubber checks the request, as the report storage tests do)."""
    data = media["clip.mp4"].read_bytes()
    client = boto3.client(
        "s3", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    with Stubber(client) as stubber:
        body = StreamingBody(io.BytesIO(data), len(data))
        stubber.add_response(
            "get_object", {"Body": body}, {"Bucket": "bucket", "Key": "media/uploads/clip.mp4"}
        )
        storage = S3Storage("bucket", "media", client=client)
        with probe.local_file(storage, "uploads/clip.mp4") as path:
            assert probe.probe(path, ".mp4").video_codec == "h264"
            copy = path
        stubber.assert_no_pending_responses()
    assert not copy.exists()


def test_a_stored_video_is_uploaded_to_s3_with_its_content_type():
    client = boto3.client(
        "s3", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    with Stubber(client) as stubber:
        stubber.add_response(
            "put_object", {},
            {"Bucket": "bucket", "Key": ANY, "Body": ANY, "ContentLength": 4,
             "ContentType": "video/webm"},
        )  # fmt: skip
        stored = S3Storage("bucket", "media", client=client).save(io.BytesIO(b"webm"), ".webm")
        stubber.assert_no_pending_responses()
    assert stored.key.endswith(".webm")
