"""`make bench N=...`: build a large deterministic catalog and time the video list pages.

    .venv/bin/python -m tests.bench --videos 1000000 [--rebuild] [--requests 50]

The database lives in a private PostgreSQL cluster under ``instance/bench`` and is
reused by later runs with the same size; the pages are requested through the real app
(Flask test client, real sign-in) and the results land in
``instance/bench/results-<N>.md``.
"""
