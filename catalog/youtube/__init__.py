"""YouTube: the Data API client, its shared daily quota, the sync jobs and their enqueueing.

- client.py   HTTP client (standard library) for videos.list and the rights source
- quota.py    calls per UTC day and the minimum delay between calls, across every worker
- rights.py   the rights source's JSON contract (ours: no public API has claims or assets)
- tasks.py    the metadata_sync, ownership_update and asset_enrichment job handlers
- service.py  enqueue_sync: one job per 50 videos, in the caller's transaction

tasks.py registers its handlers when imported; the worker must import it.
"""
