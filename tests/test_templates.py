"""The pieces every page shares, each written once: the main navigation (one list,
catalog/web/navigation.py) and the macros of templates/_macros/, which render the markup
the pages wrote out by hand before."""

import re
from pathlib import Path

import pytest
from flask import render_template_string, url_for

from catalog.web import links, templating
from tests.factories import VideoFactory

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"

# Each marker belongs to one macro; a page that writes it out again is a copy that drifts.
MARKERS = {
    "Please correct the fields marked below": "_macros/forms.html",
    'class="breadcrumb': "_macros/nav.html",
    'aria-label="Pages"': "_macros/lists.html",
    'id="f-size"': "_macros/lists.html",
}


@pytest.mark.parametrize(("marker", "home"), MARKERS.items())
def test_each_shared_piece_is_written_once(marker, home):
    holders = sorted(
        str(path.relative_to(TEMPLATES))
        for path in TEMPLATES.rglob("*.html")
        if marker in path.read_text()
    )
    assert holders == [home]


def test_the_navigation_is_one_loop():
    assert (TEMPLATES / "base.html").read_text().count('class="nav-link') == 1


NAV_LINK = re.compile(
    r'<li class="nav-item"><a class="nav-link (active)?" href="([^"]+)">([^<]+)</a></li>'
)
READERS = ["Videos", "Library", "Channels", "Production", "Reports", "Queue"]
EVERYTHING = [
    "Videos", "Library", "Channels", "Production", "Reports", "Categories", "Changes", "Queue",
    "Fields",
]  # fmt: skip


@pytest.mark.parametrize(
    ("role", "labels"),
    [
        ("viewer", READERS),
        ("editor", READERS),
        ("auditor", ["Videos", "Library", "Channels", "Production", "Reports", "Changes", "Queue"]),
        ("admin", [*EVERYTHING, "Accounts"]),
    ],
)
def test_the_navigation_offers_what_the_role_may_open(client, sign_in_as, role, labels):
    sign_in_as(role)
    links = NAV_LINK.findall(client.get("/channels").get_data(as_text=True))
    assert [label for _, _, label in links] == labels
    # Active on every page of its blueprint (request.blueprint), and only there.
    assert [label for active, _, label in links if active] == ["Channels"]
    for _, href, label in links:
        assert client.get(href).status_code == 200, label


def render(app, source: str, **context) -> str:
    with app.test_request_context():
        return render_template_string(source, **context)


def test_breadcrumbs_render_the_markup_of_the_pages(app):
    html = render(
        app,
        '{% from "_macros/nav.html" import breadcrumbs %}'
        "{{ breadcrumbs([('Videos', '/videos'), (id, '/videos/' ~ id, 'font-monospace')],"
        " 'Edit') }}"
        "{{ breadcrumbs([('Videos', '/videos')], id, 'font-monospace') }}",
        id="<b>x</b>",
    )
    assert html == (
        '<nav aria-label="breadcrumb"><ol class="breadcrumb small mb-1">'
        '<li class="breadcrumb-item"><a href="/videos">Videos</a></li>'
        '<li class="breadcrumb-item"><a class="font-monospace" href="/videos/&lt;b&gt;x&lt;/b&gt;">'
        "&lt;b&gt;x&lt;/b&gt;</a></li>"
        '<li class="breadcrumb-item active">Edit</li></ol></nav>\n'
        '<nav aria-label="breadcrumb"><ol class="breadcrumb small mb-1">'
        '<li class="breadcrumb-item"><a href="/videos">Videos</a></li>'
        '<li class="breadcrumb-item active font-monospace">&lt;b&gt;x&lt;/b&gt;</li></ol></nav>\n'
    )


TRAIL = re.compile(r'<nav aria-label="breadcrumb">.*?</nav>', re.S)


def test_the_as_of_trail_links_the_video_only_while_it_exists(client, db_session, sign_in_as):
    sign_in_as("viewer")
    VideoFactory(video_id="trail000001")
    known = client.get("/videos/trail000001/as-of?at=2001-01-01T00:00").get_data(as_text=True)
    assert TRAIL.findall(known) == [
        '<nav aria-label="breadcrumb"><ol class="breadcrumb small mb-1">'
        '<li class="breadcrumb-item"><a href="/videos">Videos</a></li>'
        '<li class="breadcrumb-item"><a class="font-monospace" href="/videos/trail000001">'
        "trail000001</a></li>"
        '<li class="breadcrumb-item active">As of a time</li></ol></nav>'
    ]
    unknown = client.get("/videos/nosuchvideo/as-of?at=2001-01-01T00:00")
    assert unknown.status_code == 404
    assert TRAIL.findall(unknown.get_data(as_text=True)) == [
        '<nav aria-label="breadcrumb"><ol class="breadcrumb small mb-1">'
        '<li class="breadcrumb-item"><a href="/videos">Videos</a></li>'
        '<li class="breadcrumb-item active">As of a time</li></ol></nav>'
    ]


def test_a_keyset_pager_offers_only_other_pages(app):
    source = '{% from "_macros/lists.html" import keyset_pager %}{{ keyset_pager(*args) }}'
    only = render(app, source, args=("videos.index", {"q": "x"}))
    first = render(app, source, args=("videos.index", {"q": "x"}, None, "c2"))
    later = render(app, source, args=("videos.index", {"q": "x"}, "c1", "c3"))
    assert "<a" not in only  # one page: nowhere else to go
    assert ">First<" not in first  # the page it is on
    assert 'rel="next" href="/videos?after=c2&amp;q=x"' in first
    assert 'href="/videos?q=x">First<' in later
    assert 'rel="prev" href="/videos?before=c1&amp;q=x"' in later


def test_the_pager_offers_only_the_pages_there_are(app):
    source = '{% from "_macros/lists.html" import pager %}{{ pager(**links) }}'
    first_page = render(app, source, links={"first": "/v", "next": "/v?after=2"})
    assert ">First<" in first_page
    assert 'rel="next" href="/v?after=2">Next →<' in first_page
    assert 'rel="prev"' not in first_page
    log = render(
        app,
        source,
        links={"first": "/q", "prev": "/q?before=9", "labels": ("Newest", "← Newer", "Older →")},
    )
    assert 'href="/q">Newest<' in log
    assert 'rel="prev" href="/q?before=9">← Newer<' in log
    assert "Older" not in log
    numbered = render(app, source, links={"prev": "/u?page=1", "position": "Page 2 of 2"})
    assert "First" not in numbered
    assert '<span class="small text-body-secondary">Page 2 of 2</span>' in numbered


def test_the_page_size_menu_selects_the_current_size(app):
    html = render(
        app, '{% from "_macros/lists.html" import page_size %}{{ page_size([25, 50, 100], 50) }}'
    )
    assert re.findall(r"<option[^>]*>", html) == [
        '<option value="25">',
        '<option value="50" selected>',
        '<option value="100">',
    ]


def test_the_errors_alert_shows_only_for_a_form_with_errors(app):
    source = '{% from "_macros/forms.html" import errors_alert %}{{ errors_alert(form, narrow) }}'
    assert "alert" not in render(app, source, form={"errors": {}}, narrow=False)
    wide = render(app, source, form={"errors": {"name": ["Required."]}}, narrow=False)
    assert '<div class="alert alert-danger py-2" role="alert">Please correct the fields' in wide
    narrow = render(app, source, form={"errors": {"name": ["Required."]}}, narrow=True)
    assert 'class="alert alert-danger py-2 narrow"' in narrow


FORM_PAGE = (
    '{% from "_macros/forms.html" import form_page %}'
    "{% call form_page(form, '/things/1', 'Save', '/things', **options) %}"
    "<p>fields</p>{% endcall %}"
)


def test_a_narrow_form_page_keeps_its_alert_and_buttons_as_narrow_as_its_form(app):
    html = render(app, FORM_PAGE, form={"errors": {"name": ["Required."]}}, options={})
    assert 'class="alert alert-danger py-2 narrow"' in html
    assert '<form method="post" action="/things/1" class="narrow" novalidate>' in html
    assert html.index("<p>fields</p>") < html.index(
        '<button class="btn btn-primary" type="submit">Save'
    )
    assert 'href="/things">Cancel<' in html
    assert "sticky-bottom" not in html
    assert "Delete" not in html


def test_a_wide_form_page_keeps_its_buttons_in_a_bar_at_the_bottom(app):
    options = {"wide": True, "delete": "/things/1/delete", "form_id": "thing-form", "alert": False}
    html = render(app, FORM_PAGE, form={"errors": {"name": ["Required."]}}, options=options)
    assert "alert" not in html  # the page shows its own message instead
    assert '<form id="thing-form" method="post" action="/things/1" novalidate>' in html
    assert 'class="sticky-bottom bg-body border-top py-2 d-flex gap-2 mt-3"' in html
    assert '<a class="btn btn-outline-danger ms-auto" href="/things/1/delete">Delete…</a>' in html


def test_templates_urls_are_url_fors_built_once_per_script_root(app):
    app.extensions.pop("catalog.built_urls", None)  # what earlier tests' pages built
    calls = [
        ("videos.index", {}),
        ("videos.index", {"q": "a&b", "size": 50}),
        ("static", {"filename": "css/app.css"}),  # with its content hash
        ("channels.detail", {"channel_id": "UCx"}),
    ]
    for script_root in ("", "/catalog"):
        with app.test_request_context("/", base_url=f"http://localhost{script_root}/"):
            for endpoint, values in calls:
                expected = url_for(endpoint, **values)
                assert expected.startswith(script_root + "/")
                assert links.template_url_for(endpoint, **values) == expected
                assert links.template_url_for(endpoint, **values) == expected  # kept
            # Not kept: absolute URLs and unhashable values go to url_for each time.
            assert links.template_url_for("videos.index", _external=True).startswith("http")
            listed = links.template_url_for("videos.index", channel=["1", "2"])
            assert listed == url_for("videos.index", channel=["1", "2"])
    built = app.extensions["catalog.built_urls"]
    assert len(built) == 2 * len(calls)  # one per URL and script root, nothing else
    assert "/catalog/videos" in built.values()


@pytest.mark.parametrize("current", ["b&c", 2, "2", None, "", "nowhere"])
def test_a_menus_options_select_the_current_value_whether_kept_or_not(current):
    """A tuple of options (a constant menu) is rendered once and kept; a list each time;
    both select the option whose value reads as `current`, escaped alike."""
    pairs = [("a", "Ä <first>"), ("b&c", 'B "&" C'), (2, "Two"), (20, "Twenty")]
    kept = str(templating.option_tags(tuple(pairs), current))
    assert kept == str(templating.option_tags(pairs, current))
    assert kept == str(templating.option_tags(tuple(pairs), current))  # from the kept copy
    selected = re.findall(r'<option value="([^"]*)" selected>', kept)
    expected = {"b&c": ["b&amp;c"], 2: ["2"], "2": ["2"]}.get(current, [])
    assert selected == expected
    assert '<option value="a">Ä &lt;first&gt;<option value="b&amp;c"' in kept
    assert kept.count("<option") == 4
