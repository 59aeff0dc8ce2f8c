"""Settings: embedded defaults in development, refusals in production."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.config import ConfigError, load_settings
from hub.runtime import build_runtime
from hub.security.encryption import generate_key

PG = "postgresql://hub@db.internal:5432/hub"
REDIS = "redis://redis.internal:6379/0"


def production(**env: str) -> dict[str, str]:
    base = {
        "HUB_ENV": "production",
        "HUB_DATABASE_URL": PG,
        "HUB_REDIS_URL": REDIS,
        "HUB_SECRET_KEYS": generate_key(),
    }
    base.update(env)
    return {k: v for k, v in base.items() if v != ""}


def test_a_complete_production_environment_loads() -> None:
    settings = load_settings(production())
    assert settings.is_production
    assert settings.database_url == PG
    assert not settings.allow_private_targets


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HUB_DATABASE_URL": ""}, "HUB_DATABASE_URL"),
        ({"HUB_REDIS_URL": ""}, "HUB_REDIS_URL"),
        ({"HUB_SECRET_KEYS": ""}, "HUB_SECRET_KEYS"),
        ({"HUB_SECRET_KEYS": " , "}, "HUB_SECRET_KEYS"),
        ({"HUB_SECRET_KEYS": "not-a-fernet-key"}, "Fernet"),
        ({"HUB_DATABASE_URL": "sqlite+aiosqlite:///hub.sqlite3"}, "SQLite"),
        ({"HUB_DATABASE_URL": "sqlite:///hub.sqlite3"}, "SQLite"),
        ({"HUB_REDIS_URL": "memory://"}, "in-process Redis"),
        ({"HUB_ALLOW_PRIVATE_TARGETS": "1"}, "HUB_ALLOW_PRIVATE_TARGETS"),
        ({"HUB_ALLOW_PRIVATE_TARGETS": "true"}, "HUB_ALLOW_PRIVATE_TARGETS"),
    ],
)
def test_production_refuses_embedded_defaults_and_missing_secrets(
    env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(production(**env))


def test_production_names_everything_missing_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"HUB_ENV": "production"})
    for name in ("HUB_DATABASE_URL", "HUB_REDIS_URL", "HUB_SECRET_KEYS"):
        assert name in str(caught.value)


@pytest.mark.parametrize("env_name", ["development", "production"])
def test_a_short_bootstrap_token_is_refused(env_name: str) -> None:
    env = production() if env_name == "production" else {}
    with pytest.raises(ConfigError, match="32"):
        load_settings({**env, "HUB_BOOTSTRAP_ADMIN_TOKEN": "x" * 31})
    assert load_settings({**env, "HUB_BOOTSTRAP_ADMIN_TOKEN": "x" * 32}).bootstrap_admin_token


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HUB_ENV": "staging"}, "HUB_ENV"),
        ({"HUB_MAX_BODY_BYTES": "1MB"}, "HUB_MAX_BODY_BYTES"),
        ({"HUB_MAX_BODY_BYTES": "0"}, "HUB_MAX_BODY_BYTES"),
        ({"HUB_MAX_BODY_BYTES": "-5"}, "HUB_MAX_BODY_BYTES"),
        ({"HUB_LOG_LEVEL": "LOUD"}, "HUB_LOG_LEVEL"),
        ({"HUB_UPSTREAM_TIMEOUT_SECONDS": "soon"}, "HUB_UPSTREAM_TIMEOUT_SECONDS"),
    ],
)
def test_malformed_values_are_refused_by_name(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(env)


def test_development_fills_embedded_defaults(tmp_path: Path) -> None:
    settings = load_settings({"HUB_STATE_DIR": str(tmp_path)})
    assert settings.env == "development"
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}"
    assert settings.redis_url == "memory://"
    assert settings.max_body_bytes == 1024 * 1024
    assert load_settings({"HUB_MAX_BODY_BYTES": "2048"}).max_body_bytes == 2048


async def test_development_generates_secret_keys_once_into_the_state_dir(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_settings({"HUB_STATE_DIR": str(tmp_path), "HUB_REDIS_URL": "memory://"})
    assert settings.secret_keys == ()
    rt = await build_runtime(settings, migrate=True)
    await rt.close()
    keyfile = tmp_path / "secret_keys"
    assert keyfile.exists()
    assert keyfile.stat().st_mode & 0o777 == 0o600
    assert "HUB_SECRET_KEYS not set" in caplog.text
    first = keyfile.read_text()
    # A second start reuses the key: the pepper stored under it still decrypts.
    rt = await build_runtime(settings)
    await rt.close()
    assert keyfile.read_text() == first


def test_secrets_can_come_from_files(tmp_path: Path) -> None:
    """A mounted Docker/Kubernetes secret: the value never sits in the environment."""
    key = generate_key()
    token = "t" * 40
    files = {"keys": f"{key}\n", "db": f"{PG}\n", "redis": REDIS, "token": f"{token}\n"}
    for name, content in files.items():
        (tmp_path / name).write_text(content)
    env = {
        "HUB_ENV": "production",
        "HUB_SECRET_KEYS_FILE": str(tmp_path / "keys"),
        "HUB_DATABASE_URL_FILE": str(tmp_path / "db"),
        "HUB_REDIS_URL_FILE": str(tmp_path / "redis"),
        "HUB_BOOTSTRAP_ADMIN_TOKEN_FILE": str(tmp_path / "token"),
    }
    settings = load_settings(env)
    assert settings.secret_keys == (key,)
    assert settings.database_url.endswith("db.internal:5432/hub")
    assert settings.redis_url == REDIS
    assert settings.bootstrap_admin_token == token


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HUB_SECRET_KEYS_FILE": "/nonexistent/keys"}, "HUB_SECRET_KEYS_FILE: cannot read"),
        (
            {"HUB_SECRET_KEYS": "x", "HUB_SECRET_KEYS_FILE": "/nonexistent/keys"},
            "HUB_SECRET_KEYS or HUB_SECRET_KEYS_FILE, not both",
        ),
    ],
)
def test_a_bad_secret_file_is_refused_by_name(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings({"HUB_ENV": "development", **env})


def test_an_unreadable_secret_file_says_why_without_its_content(tmp_path: Path) -> None:
    bad = tmp_path / "keys"
    bad.write_bytes(b"\xff\xfe secret-ish")
    with pytest.raises(ConfigError) as raised:
        load_settings({"HUB_ENV": "development", "HUB_SECRET_KEYS_FILE": str(bad)})
    assert "secret-ish" not in str(raised.value)
    assert "UnicodeDecodeError" in str(raised.value)
