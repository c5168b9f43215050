"""The app a test worker process runs: `flask --app tests.jobs.worker_app catalog worker`,
with DATABASE_URL and the JOB_* settings in its environment (catalog/config.py)."""

from catalog import create_app
from tests.jobs import tasks  # noqa: F401  (registers the test task types)

app = create_app({"TESTING": True, "SECRET_KEY": "test-secret-key"})
