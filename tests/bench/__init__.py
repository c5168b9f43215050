"""`make bench N=...`: build a large deterministic catalog and time the video list pages
(plain, and filtered and sorted by custom fields), the channel pages and the Changes page
(`/audit`).

    .venv/bin/python -m tests.bench --videos 1000000 [--audit-rows 10000000] [--rebuild]
                                    [--requests 50]

The database lives in a private PostgreSQL cluster under ``instance/bench``, one per N,
and is reused by later runs with the same N, audit row count M (default ten million) and
generator; otherwise it is rebuilt. A database whose core data (channels, videos, audit
rows) this generator still makes is extended in place with what it lacks (the custom
fields of generator 4), which the build marker records. The pages are requested through
the real app (Flask test client, real sign-in: an editor for the list, custom field and
channel pages, an auditor for the Changes page) and the results land in
``instance/bench/results-<N>.md`` (``results-<N>-audit<M>.md`` when M is not the
default), the plans of every page's SQL in ``explain-<N>[...].txt``.

After the pages, the import benchmark (issue 4, tests/bench/importbench.py) applies a
deterministic video report of about N rows through the worker's code path to a scratch
copy of the database, beside plain COPYs of the same file, and appends its table to the
same results file. ``--only pages`` or ``--only import`` runs one of the two.

The list pages through HTTP (issue 17, tests/bench/lists.py, ``--only lists``): gunicorn
(2 workers) serves Catalog and a hand-written reference page side by side
(tests/bench/reference.py); the five list scenarios, the channel list and /audit are
requested in turns with their reference, and the table (median, p95, ratio, CPU per
request, HTML bytes, statements, and where a request's time goes) lands in
``instance/bench/results-lists-<N>.md``.

The library (issue 15, tests/bench/library.py, ``--only library``): /library for a viewer
with a "Continue watching" row, and progress beacons from 32 viewers through gunicorn;
``--library-users U`` (default 10,000) sizes it. Its table goes to
``instance/bench/results-library-<N>.md``.

Throughput (issue 16, tests/bench/throughput.py, ``--only throughput``): wrk through HAProxy
and gunicorn (deploy/'s configurations), one and two instances, concurrency 1, 8 and 32, on
list page 1, a search, a video page and a static file, interleaved with a Flask-Admin
ModelView over the same table; ``--throughput-seconds`` per run (5). Its table goes to
``instance/bench/throughput-<N>.md``.
"""
