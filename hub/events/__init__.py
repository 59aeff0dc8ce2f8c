"""Events: the catalog, ingest with per-tenant deduplication, the outbox fan-out,
samples in the delivered shape, and retention.

Public faces (imported from their modules, not re-exported here, because the
sanitizer imports the catalog and ingest imports the sanitizer):
``catalog.EVENT_TYPES`` / ``catalog.EventType``, ``ingest.publish_internal``,
``body.delivered_body`` (the one function building what a subscriber receives).
"""
