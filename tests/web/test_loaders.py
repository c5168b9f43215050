"""Ids in URLs: one converter for every integer id, and one loader that answers 404."""

import uuid

import pytest
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from catalog.models import VideoCategory
from catalog.web.loaders import IdConverter, load_or_404
from tests import factories
from tests.helpers import csrf_token
from tests.production.test_api import make_token_worker

OUT_OF_RANGE = 3_000_000_000  # past INTEGER: PostgreSQL would refuse the query (a 500)


def _id_rules(app):
    return [
        rule
        for rule in app.url_map.iter_rules()
        if any(isinstance(c, IdConverter) for c in rule._converters.values())
    ]


def _url(rule, number: int, video) -> str:
    values = {"video_id": video.video_id, "channel_id": video.channel.channel_id,
              "batch_id": uuid.UUID(int=0)}  # fmt: skip
    for name, converter in rule._converters.items():
        values[name] = number if isinstance(converter, IdConverter) else values.get(name)
    return rule.build({name: values[name] for name in rule.arguments})[1]


def test_no_route_takes_an_id_as_a_plain_int(app):
    plain = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if any(type(c).__name__ == "IntegerConverter" for c in rule._converters.values())
    ]
    assert plain == [], "use <id:...>: it 404s ids past INTEGER"


def test_the_id_routes_are_all_there(app):
    # Guards the walk below against a converter that silently stops being used.
    endpoints = {rule.endpoint for rule in _id_rules(app)}
    assert {"reports.detail", "categories.edit", "fields.edit", "accounts.edit",
            "revert.revert_change"} <= endpoints  # fmt: skip


@pytest.mark.parametrize("number", [OUT_OF_RANGE, 0])
def test_an_id_no_row_can_have_is_not_found_on_every_id_route(
    app, client, db_session, sign_in_as, number
):
    sign_in_as("admin")
    video = factories.VideoFactory()
    token = csrf_token(client.get("/videos"))
    # The workers' API authenticates by a worker's token, not the session.
    _worker, worker_token = make_token_worker(db_session)
    answers = {}
    for rule in _id_rules(app):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            data = {"csrf_token": token} if method == "POST" else None
            headers = {}
            if rule.endpoint.startswith("pipeline_api."):
                data, headers = None, {"Authorization": f"Bearer {worker_token}"}
            response = client.open(
                _url(rule, number, video), method=method, data=data, headers=headers
            )
            answers[(rule.rule, method)] = response.status_code
    assert answers, "no route uses the id converter"
    assert {key: status for key, status in answers.items() if status != 404} == {}


def test_load_or_404_returns_the_row_or_aborts(app_ctx):
    category = factories.CategoryFactory()
    assert load_or_404(select(VideoCategory).where(VideoCategory.id == category.id)) is category
    with pytest.raises(NotFound):
        load_or_404(select(VideoCategory).where(VideoCategory.id == category.id + 1000))
