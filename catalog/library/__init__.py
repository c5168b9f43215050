"""The video library: staff watch the catalog, pick up where they left off, and react."""

from flask import Blueprint

bp = Blueprint("library", __name__)

# The routes; probe: the video_probe job handler, registered with the job engine.
from catalog.library import admin_views, api, probe, upload_views, views  # noqa: E402, F401

# The player's beacons, /api/library/progress (library.beacons.progress_beacon).
bp.register_blueprint(api.bp)
