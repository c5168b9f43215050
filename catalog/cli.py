"""`flask catalog ...`: operator commands."""

from flask import Flask
from flask.cli import AppGroup

catalog_cli = AppGroup("catalog", help="Catalog operator commands.")


def init_app(app: Flask) -> None:
    app.cli.add_command(catalog_cli)
