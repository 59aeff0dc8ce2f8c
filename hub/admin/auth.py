"""Who is acting through the admin API (or the CLI), and which tenants they may see."""

from __future__ import annotations

from dataclasses import dataclass

from hub.web.errors import ProblemError


@dataclass(frozen=True, slots=True)
class AdminPrincipal:
    """A platform admin (``tenant_id`` None) or one tenant's admin."""

    actor: str  # e.g. "admin:adm_...", "cli"
    tenant_id: str | None = None

    @property
    def is_platform(self) -> bool:
        return self.tenant_id is None

    def require_tenant(self, tenant_id: str) -> None:
        """Another tenant's objects are answered 404, never 403: no existence leak."""
        if self.tenant_id is not None and self.tenant_id != tenant_id:
            raise ProblemError("NOT_FOUND", "no such object")

    def require_platform(self, what: str) -> None:
        if not self.is_platform:
            raise ProblemError("FORBIDDEN_SCOPE", f"only a platform admin token may {what}")


CLI_ADMIN = AdminPrincipal(actor="cli")
