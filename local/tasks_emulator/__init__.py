"""A local stand-in for the Cloud Tasks v2 API (there is no official emulator).

Run it with ``python -m tasks_emulator --port 9499`` and point the stock
``google-cloud-tasks`` client at it with :func:`tasks_emulator.client.make_client`.

Layout: ``names`` (resource names), ``errors`` (refusals and their gRPC
codes), ``policy`` (retry/rate defaults and maths), ``store`` (queues, tasks,
tombstones; pure), ``delivery`` (the HTTP request a task turns into; pure),
``convert`` (proto <-> records), ``dispatcher`` (timers, HTTP via aiohttp,
retries), ``service`` (gRPC), ``logs`` (JSON lines), ``__main__`` (process
wiring), ``client`` (``make_client`` for application code).  See README.md.
"""
