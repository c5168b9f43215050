"""What an internet-facing admin tool needs beyond sign-in: headers, sessions, throttling."""

from flask import Flask


def init_app(app: Flask) -> None:
    pass
