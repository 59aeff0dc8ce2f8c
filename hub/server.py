"""The ASGI entry point for servers (granian, uvicorn): ``hub.server:app``."""

from __future__ import annotations

from hub.app import create_app
from hub.config import load_settings
from hub.logs import configure_logging

_settings = load_settings()
configure_logging(_settings.log_level)
app = create_app(_settings)
