"""Console benchmark: ``python -m bench.console [--deliveries 100000] [--requests 40]``.

How fast the operator console's pages answer with ``--deliveries`` deliveries in the
database, on a fresh Postgres database (dropped afterwards; ``--sqlite`` for the
embedded backend) and Redis keys under a unique prefix (deleted afterwards):

- seeded straight into the tables: 4 tenants with one integration each, 6 subscriptions
  per tenant (hooks.zapier.com, hook.eu1.make.com and a partner host, on two event
  types), the deliveries spread over the last 48 hours (80 % delivered, 10 % dead with
  two attempts each, 5 % retrying, 5 % pending), one event per five deliveries;
- one granian API process (``hub.server:app``), signed in through the console's own
  form as a platform admin;
- every page asked ``--requests`` times one after the other (after 3 warm-ups), as an
  operator clicks: the baseline (the sign-in page, a template and no database), the
  overview, the deliveries list (first page, a page deep in the middle, by status, by
  tenant + event type, by target host, by a one-hour window), one delivery with its
  attempts, the dead-letter list, the replay confirmation (the count of every dead
  delivery; nothing is replayed), the audit log and the subscriptions.

Reported: p50, p95 and max per page and its p95 ratio to the baseline
(informational). The last line: every page's p95 <= 200 ms (PASS/MISS). Environment:
``HUB_BENCH_DATABASE_URL``, ``HUB_BENCH_REDIS_URL``.
"""
