"""Settings read once from the environment (``HUB_*``).

One typed object, passed explicitly; nothing else in the hub reads ``os.environ``.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from pathlib import Path

import msgspec

DEV_STATE_DIR = Path(".hub")
MIN_BOOTSTRAP_TOKEN_LENGTH = 32
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(Exception):
    """The environment does not describe a hub that may start."""


class Settings(msgspec.Struct, kw_only=True, frozen=True):
    env: str = "development"
    database_url: str = ""
    redis_url: str = ""
    redis_prefix: str = "hub:"
    secret_keys: tuple[str, ...] = ()
    bootstrap_admin_token: str | None = None
    allow_private_targets: bool = False
    max_body_bytes: int = 1024 * 1024
    state_dir: str = str(DEV_STATE_DIR)
    log_level: str = "INFO"
    # Actions: idempotency and upstream calls.
    idempotency_lock_seconds: int = 60
    idempotency_ttl_seconds: int = 24 * 3600
    upstream_timeout_seconds: float = 10.0
    execution_retention_seconds: int = 30 * 24 * 3600
    # Events: hooks, retention.
    max_subscriptions_per_integration: int = 100
    event_retention_seconds: int = 7 * 24 * 3600
    delivery_body_retention_seconds: int = 14 * 24 * 3600
    # Delivery engine.
    delivery_connect_timeout_seconds: float = 5.0
    delivery_timeout_seconds: float = 15.0
    delivery_concurrency: int = 64
    subscription_auto_disable_seconds: int = 5 * 24 * 3600
    # How long a claimed delivery stays reserved for its worker (> the total timeout).
    delivery_lease_seconds: float = 60.0
    # How often the sweeper re-finds due deliveries from Postgres (lost jobs, Redis flush).
    delivery_sweep_seconds: int = 10
    # Deliveries claimed per subscription lane at once.
    delivery_batch_size: int = 100
    # A worker process serves its Prometheus metrics here (0 = off).
    worker_metrics_port: int = 0
    public_base_url: str = "http://127.0.0.1:8000"
    # Tracing (hub/tracing.py): "none" (off), "otlp" or "console", from OpenTelemetry's own
    # OTEL_TRACES_EXPORTER / OTEL_EXPORTER_OTLP_*ENDPOINT / OTEL_SDK_DISABLED; the SDK
    # reads the rest of the OTEL_* variables (endpoint, headers, sampler) itself.
    traces_exporter: str = "none"

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def database_is_embedded(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def redis_is_embedded(self) -> bool:
        return self.redis_url in ("", "memory://")


_TRUE = {"1", "true", "yes", "on"}


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc


def _check_fernet_keys(keys: tuple[str, ...]) -> None:
    for n, key in enumerate(keys, 1):
        try:
            valid = len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32
        except (binascii.Error, UnicodeError, ValueError):
            valid = False
        if not valid:
            raise ConfigError(
                f"HUB_SECRET_KEYS: key {n} is not a Fernet key (32 url-safe base64 bytes); "
                "make one with `hub admin generate-secret-key`"
            )


def _check_values(settings: Settings) -> None:
    """Rules every environment shares; the message names the variable to fix."""
    token = settings.bootstrap_admin_token
    if token is not None and len(token) < MIN_BOOTSTRAP_TOKEN_LENGTH:
        raise ConfigError(
            f"HUB_BOOTSTRAP_ADMIN_TOKEN must be at least {MIN_BOOTSTRAP_TOKEN_LENGTH} characters"
        )
    if settings.max_body_bytes < 1:
        raise ConfigError("HUB_MAX_BODY_BYTES must be a positive number of bytes")
    if settings.log_level not in LOG_LEVELS:
        raise ConfigError(f"HUB_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
    _check_fernet_keys(settings.secret_keys)


# Settings that may instead be read from a file named by ``<name>_FILE`` (a mounted
# Docker or Kubernetes secret), so the value stays out of the process environment.
FILE_SETTINGS = (
    "HUB_SECRET_KEYS",
    "HUB_DATABASE_URL",
    "HUB_REDIS_URL",
    "HUB_BOOTSTRAP_ADMIN_TOKEN",
)


def _from_files(env: Mapping[str, str]) -> Mapping[str, str]:
    """``env`` with every ``HUB_X_FILE`` of ``FILE_SETTINGS`` read into ``HUB_X``."""
    merged = dict(env)
    for name in FILE_SETTINGS:
        path = env.get(f"{name}_FILE")
        if not path:
            continue
        if env.get(name):
            raise ConfigError(f"set {name} or {name}_FILE, not both")
        try:
            merged[name] = Path(path).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"{name}_FILE: cannot read {path}: {exc.__class__.__name__}"
            ) from None
    return merged


TRACES_EXPORTERS = ("none", "otlp", "console")


def _traces_exporter(env: Mapping[str, str]) -> str:
    """Tracing is off unless OpenTelemetry's standard variables ask for it."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() in _TRUE:
        return "none"
    chosen = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if not chosen:
        endpoints = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        return "otlp" if any(env.get(name, "").strip() for name in endpoints) else "none"
    if chosen not in TRACES_EXPORTERS:
        raise ConfigError(
            f"OTEL_TRACES_EXPORTER must be one of {', '.join(TRACES_EXPORTERS)}, got {chosen!r}"
        )
    return chosen


def load_settings(env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Build settings from ``env`` (default ``os.environ``); ``overrides`` win."""
    env = _from_files(os.environ if env is None else env)
    hub_env = env.get("HUB_ENV", "development")
    if hub_env not in ("development", "production"):
        raise ConfigError(f"HUB_ENV must be 'development' or 'production', got {hub_env!r}")
    state_dir = env.get("HUB_STATE_DIR", str(DEV_STATE_DIR))
    keys = tuple(k.strip() for k in env.get("HUB_SECRET_KEYS", "").split(",") if k.strip())
    values: dict[str, object] = {
        "env": hub_env,
        "database_url": env.get("HUB_DATABASE_URL", ""),
        "redis_url": env.get("HUB_REDIS_URL", ""),
        "redis_prefix": env.get("HUB_REDIS_PREFIX", "hub:"),
        "secret_keys": keys,
        "bootstrap_admin_token": env.get("HUB_BOOTSTRAP_ADMIN_TOKEN") or None,
        "allow_private_targets": env.get("HUB_ALLOW_PRIVATE_TARGETS", "").lower() in _TRUE,
        "max_body_bytes": _int(env, "HUB_MAX_BODY_BYTES", 1024 * 1024),
        "state_dir": state_dir,
        "log_level": env.get("HUB_LOG_LEVEL", "INFO").upper(),
        "idempotency_lock_seconds": _int(env, "HUB_IDEMPOTENCY_LOCK_SECONDS", 60),
        "idempotency_ttl_seconds": _int(env, "HUB_IDEMPOTENCY_TTL_SECONDS", 24 * 3600),
        "upstream_timeout_seconds": _float(env, "HUB_UPSTREAM_TIMEOUT_SECONDS", 10.0),
        "execution_retention_seconds": _int(env, "HUB_EXECUTION_RETENTION_SECONDS", 30 * 24 * 3600),
        "max_subscriptions_per_integration": _int(env, "HUB_MAX_SUBSCRIPTIONS", 100),
        "event_retention_seconds": _int(env, "HUB_EVENT_RETENTION_SECONDS", 7 * 24 * 3600),
        "delivery_body_retention_seconds": _int(
            env, "HUB_DELIVERY_BODY_RETENTION_SECONDS", 14 * 24 * 3600
        ),
        "delivery_connect_timeout_seconds": _float(env, "HUB_DELIVERY_CONNECT_TIMEOUT", 5.0),
        "delivery_timeout_seconds": _float(env, "HUB_DELIVERY_TIMEOUT", 15.0),
        "delivery_concurrency": _int(env, "HUB_DELIVERY_CONCURRENCY", 64),
        "subscription_auto_disable_seconds": _int(
            env, "HUB_SUBSCRIPTION_AUTO_DISABLE_SECONDS", 5 * 24 * 3600
        ),
        "delivery_lease_seconds": _float(env, "HUB_DELIVERY_LEASE_SECONDS", 60.0),
        "delivery_sweep_seconds": _int(env, "HUB_DELIVERY_SWEEP_SECONDS", 10),
        "delivery_batch_size": _int(env, "HUB_DELIVERY_BATCH_SIZE", 100),
        "worker_metrics_port": _int(env, "HUB_WORKER_METRICS_PORT", 0),
        "public_base_url": env.get("HUB_PUBLIC_BASE_URL", "http://127.0.0.1:8000"),
        "traces_exporter": _traces_exporter(env),
    }
    values.update(overrides)
    settings = msgspec.convert(values, Settings)
    _check_values(settings)
    return _with_defaults(settings)


def _with_defaults(settings: Settings) -> Settings:
    """Fill embedded defaults in development; refuse them in production."""
    if settings.is_production:
        missing = [
            name
            for name, value in (
                ("HUB_DATABASE_URL", settings.database_url),
                ("HUB_REDIS_URL", settings.redis_url),
                ("HUB_SECRET_KEYS", settings.secret_keys),
            )
            if not value
        ]
        if missing:
            raise ConfigError("production requires " + ", ".join(missing))
        if settings.database_is_embedded:
            raise ConfigError("production refuses SQLite: set HUB_DATABASE_URL to Postgres")
        if settings.redis_is_embedded:
            raise ConfigError("production refuses the in-process Redis: set HUB_REDIS_URL")
        if settings.allow_private_targets:
            raise ConfigError("production refuses HUB_ALLOW_PRIVATE_TARGETS")
        return settings
    if not settings.database_url:
        db_path = Path(settings.state_dir) / "hub.sqlite3"
        settings = msgspec.structs.replace(settings, database_url=f"sqlite+aiosqlite:///{db_path}")
    if not settings.redis_url:
        settings = msgspec.structs.replace(settings, redis_url="memory://")
    return settings
