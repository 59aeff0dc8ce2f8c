"""E-mail benchmark: ``python -m bench.email [--rate 50] [--seconds 30]``.

The e-mail channel's two hot paths, on a fresh Postgres database (dropped afterwards)
and Redis keys under a unique prefix (deleted afterwards), in one run:

(a) baseline: the open-loop generator (``bench/inbound/load.py``) at ``--rate`` for
    ``--seconds`` against the bare litestar app of ``bench/actions/bare.py``;
(b) ``POST /v1/actions/send_email`` at the same rate, each with its own
    Idempotency-Key and recipient, through the tenant's SendGrid connector: the suppression
    check, the reputation guards' counters, the send record before and after the provider
    call (a loopback sink answering as SendGrid's ``mail/send`` does), the audit record and
    ``email.sent``;
(c) SendGrid's signed Event Webhook at the same rate: each request a batch of 10
    ``delivered`` events (ECDSA P-256 over timestamp + body, as SendGrid signs) for
    messages sent in (b), each event with its own ``sg_event_id``: verified, tied back
    to its message, stored once as ``email.delivered`` and delivered by one
    ``hub worker`` to a REST hook on the same sink during the load.

Each phase is preceded by a short warm-up (its sends and events are left out of every
count). The hub runs with ``HUB_ENV=development``: production refuses
``HUB_ALLOW_PRIVATE_TARGETS``, which the loopback sink needs.

Reported: per phase sent, 2xx, non-2xx (5xx apart), p50/p95/p99/max latency, server
CPU per request; after (b) the provider calls per accepted send; after (c) the events
stored and delivered. The last line: p95(b) and p95(c) <= 200 ms, no 5xx, exactly one
provider call per send, every event stored exactly once (PASS/MISS), and the p95
ratios to (a) (informational). Environment: ``HUB_BENCH_DATABASE_URL``,
``HUB_BENCH_REDIS_URL``.
"""
