"""Inbound benchmark: ``python -m bench.inbound [--rate 100] [--seconds 60]``.

WhatsApp provider webhooks (Meta Cloud API format) received by the hub while a worker
delivers what they publish. One run, on a fresh Postgres database (dropped afterwards)
and Redis keys under a unique prefix (deleted afterwards):

(a) baseline: the open-loop generator (``bench/inbound/load.py``) at ``--rate`` for
    ``--seconds`` against the bare litestar app of ``bench/actions/bare.py``
    (``POST /bare`` with the ``bench.actions`` lead body, the one it decodes);
(b) the same generator against ``POST /v1/inbound/whatsapp/{connector id}``: each
    request a signed Meta text webhook (``X-Hub-Signature-256``) with its own message
    id ``wamid.bench.<n>`` and a fresh timestamp, so each stores one new
    ``message.received`` event, fanned out to 5 integrations' REST hooks (a local
    aiohttp sink answering 200) and delivered by one ``hub worker`` during the load.

Both servers are one granian process each, started like ``bench.actions`` does. Each
phase is preceded by a short warm-up at the same rate (``--warmup``; its webhooks carry
``wamid.warmup.<n>`` and are left out of every count). Latency runs from when each
request was due. The hub runs with ``HUB_ENV=development``: production refuses
``HUB_ALLOW_PRIVATE_TARGETS``, which the loopback sink needs.

Reported: sent, 2xx, non-2xx (5xx apart), p50/p95/p99/max latency, server CPU per
request (from /proc), then the events stored and the deliveries delivered (waiting up
to 30 s for the worker to drain). The last line: p95(b) <= 200 ms, no 5xx, every
request's event stored exactly once (PASS/MISS), and p95(b)/p95(a) (informational).
Environment: ``HUB_BENCH_DATABASE_URL``, ``HUB_BENCH_REDIS_URL``.
"""
