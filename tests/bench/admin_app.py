"""The throughput benchmark's alternative (issue 16, section 4): what a team would put up in
an afternoon instead of Catalog, a Flask-Admin ModelView over the same `videos` table, served
by gunicorn with the same settings (deploy/gunicorn.conf.py):

    gunicorn --config deploy/gunicorn.conf.py tests.bench.admin_app:app

It shows the columns of Catalog's list, 25 rows a page, newest first, searches titles, and
has a details page. It has no sign-in (Flask-Admin has none of its own), so it does less per
request than Catalog, which checks the session, the user and the permission on every page.
"""

import os

from flask import Flask
from flask_admin import Admin
from flask_admin.contrib.sqla import ModelView

from catalog.extensions import db
from catalog.models import Video


class VideoView(ModelView):
    can_create = can_edit = can_delete = False
    can_view_details = True
    page_size = 25
    column_list = ("video_id", "title", "artist", "channel_display_name", "views",
                   "privacy_status", "updated_at")  # fmt: skip
    column_searchable_list = ("title",)
    column_default_sort = ("id", True)


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True}
    app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY", "bench-admin")
    db.init_app(app)
    admin = Admin(app, name="Videos")
    admin.add_view(VideoView(Video, db.session, endpoint="video"))
    # HAProxy's readiness check (deploy/haproxy.cfg), as cheap as it can be.
    app.add_url_rule("/health/ready", "ready", lambda: "ok")
    return app


app = create_app()
