"""Development only: generate ``HUB_SECRET_KEYS`` once into a git-ignored local file."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from hub.config import Settings
from hub.security.encryption import generate_key

log = logging.getLogger("hub.security")


def dev_secret_keys(settings: Settings) -> tuple[str, ...]:
    if settings.secret_keys:
        return settings.secret_keys
    path = Path(settings.state_dir) / "secret_keys"
    if path.exists():
        return tuple(k for k in path.read_text().split() if k)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = generate_key()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process of this dev install won the race
        return tuple(k for k in path.read_text().split() if k)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    log.warning(
        "HUB_SECRET_KEYS not set: generated a development key",
        extra={"path": str(path)},
    )
    return (key,)
