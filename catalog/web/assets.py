"""Static files for production: content-hashed URLs cached for a year, and compressed
responses.

`url_for("static", filename=...)` adds `?v=<hash of the file's content>`, computed once per
file when the app starts (the files ship with the code: a new version is a new process). A
request for a file with its current hash is answered `Cache-Control: public, max-age=31536000,
immutable`, so browsers and proxies never ask again; the next release's different content
means a different URL. Any other request for a static file (no hash, or an old one) keeps
Flask's answer: revalidated each time with its ETag and Last-Modified.

HTML, CSS, JavaScript, JSON and SVG are compressed by Flask-Compress (Brotli or gzip,
whichever the client accepts), so gunicorn alone serves them compressed, with or without a
proxy in front.
"""

import hashlib
from pathlib import Path

from flask import Flask, Response, current_app, request
from flask_compress import Compress

IMMUTABLE = "public, max-age=31536000, immutable"
HASH_LENGTH = 12
VERSION_ARG = "v"

compress = Compress()

COMPRESSION = {
    "COMPRESS_MIMETYPES": [
        "text/html",
        "text/css",
        "text/javascript",
        "application/javascript",
        "application/json",
        "image/svg+xml",
    ],
    # Brotli first (smaller pages for the same CPU at level 4), gzip for the rest; not zstd,
    # whose support in browsers and proxies is still young.
    "COMPRESS_ALGORITHM": ["br", "gzip"],
    "COMPRESS_ALGORITHM_STREAMING": ["br", "deflate"],
    # The fastest levels: the 59 kB video list compresses to 10.8 kB in 0.08 ms with Brotli 1
    # where Flask-Compress's default (4) takes 0.37 ms for 9.4 kB, and gzip 1 to 11.0 kB in
    # 0.21 ms against level 6's 0.48 ms for 9.4 kB (one core of the bench machine). A page
    # is compressed on every request; a kilobyte and a half is nothing on the wire.
    "COMPRESS_BR_LEVEL": 1,
    "COMPRESS_LEVEL": 1,
    # Exports stream CSV (not compressed here, see the types above); a page that streams is
    # compressed chunk by chunk, which keeps it streaming.
    "COMPRESS_STREAMS": True,
}


def init_app(app: Flask) -> None:
    for key, value in COMPRESSION.items():
        app.config.setdefault(key, value)
    compress.init_app(app)
    app.extensions["catalog.static_versions"] = versions(Path(app.static_folder))
    app.url_defaults(add_version)
    app.after_request(cache_versioned)


def versions(folder: Path) -> dict[str, str]:
    """The short content hash of every file under `folder`, by its path relative to it."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:HASH_LENGTH]
            found[path.relative_to(folder).as_posix()] = digest
    return found


def add_version(endpoint: str, values: dict) -> None:
    if endpoint != "static" or VERSION_ARG in values:
        return
    version = current_app.extensions["catalog.static_versions"].get(values.get("filename", ""))
    if version:
        values[VERSION_ARG] = version


def cache_versioned(response: Response) -> Response:
    if request.endpoint != "static" or response.status_code != 200:
        return response
    filename = (request.view_args or {}).get("filename", "")
    current = current_app.extensions["catalog.static_versions"].get(filename)
    if current and request.args.get(VERSION_ARG) == current:
        response.headers["Cache-Control"] = IMMUTABLE
    return response
