"""Header normalisation, format detection and sniffing of what a file is."""

import pytest

from catalog.reports.formats import CATALOG, YOUTUBE, ReportFileError, detect, normalize, sniff
from tests.reports.conftest import sample

A2_HEADER = sample("youtube_video_report_a2.csv").read_text().splitlines()[0].split(",")


@pytest.mark.parametrize(
    "name", ["video_id", "Video ID", "VIDEO_ID", " video id ", "Video-Id", "\ufeffvideo_id"]
)
def test_headers_match_whatever_their_case_spaces_and_underscores(name):
    assert normalize(name) == "videoid"


def test_the_youtube_a2_header_is_detected_and_mapped():
    layout = detect(A2_HEADER)
    assert layout.format is YOUTUBE
    assert layout.fields["video_id"] == 0
    assert layout.fields["title"] == A2_HEADER.index("video_title")
    assert layout.fields["privacy_status"] == A2_HEADER.index("video_privacy_status")
    assert layout.fields["channel_name"] == A2_HEADER.index("channel_display_name")
    # What the catalog has no field for is named, not silently dropped.
    assert {"time_uploaded", "comments", "video_url", "eidr"} <= set(layout.ignored)


def test_the_catalog_tool_header_is_detected():
    header = sample("catalog_tool.csv").read_text().splitlines()[0].split(",")
    layout = detect(header)
    assert layout.format is CATALOG
    assert layout.fields["time_published"] == header.index("published_at")
    assert layout.fields["video_length"] == header.index("duration")
    assert set(layout.ignored) == {"likes", "comments"}


def test_spaced_and_capitalised_youtube_headers_are_detected():
    layout = detect(["Video ID", "Channel ID", "Video Title", "Views", "Video Privacy Status"])
    assert layout.format is YOUTUBE
    assert layout.fields == {
        "video_id": 0, "channel_key": 1, "title": 2, "views": 3, "privacy_status": 4,
    }  # fmt: skip


def test_a4_columns_are_understood_too():
    layout = detect([*A2_HEADER, "midrolls_enabled", "in_video_ads_enabled", "engaged_views"])
    assert "midrolls_enabled" in layout.fields
    assert "engaged_views" in layout.ignored


def test_an_unknown_file_names_the_columns_it_lacks():
    with pytest.raises(ReportFileError) as error:
        detect(["id", "name", "count"])
    message = str(error.value)
    assert "Unknown report format" in message
    assert "video_id, channel_id, video_title" in message
    assert "video_id, title" in message
    assert "id, name, count" in message


def test_a_youtube_report_missing_a_required_column_says_which():
    with pytest.raises(ReportFileError, match="lacks the column video_title"):
        detect(["video_id", "channel_id", "video_privacy_status", "views"])


def test_the_first_of_two_same_named_columns_wins():
    layout = detect(["video_id", "title", "Title"])
    assert layout.fields["title"] == 1
    assert layout.ignored == ("Title",)


@pytest.mark.parametrize(
    ("head", "message"),
    [
        (b"", "empty"),
        (b"PK\x03\x04rest of a zip", "ZIP archive"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1", "old Excel"),
        ("video_id,title\n".encode("utf-16"), "UTF-16"),
        ("video_id,title\n".encode("utf-16-le"), "UTF-16"),
        (b"%PDF-1.7", "PDF"),
    ],
)
def test_files_that_are_no_csv_text_are_refused_with_a_reason(head, message):
    with pytest.raises(ReportFileError, match=message):
        sniff(head)


def test_csv_text_passes_the_sniff():
    sniff(b"video_id,title\nabc,def\n")
