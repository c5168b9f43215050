"""Fixtures of the production tests: the fake Notion API (tests/production/fake_notion.py)."""

from tests.production.fake_notion import fake_notion, fake_notion_server  # noqa: F401
