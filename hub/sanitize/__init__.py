"""The PII sanitizer: per event type allowlist policies, compiled once, default deny.

Public surface: ``default_policies()`` (the loaded ``PolicySet``), ``CompiledPolicy``
(``.sanitize(data_struct, pseudonymizer)``, ``.version``), ``pseudonymizer_for``
(the per-tenant keyed hash), ``validate_overrides`` (admin PATCH of an
integration's ``policy_overrides``).
"""

from __future__ import annotations

from hub.sanitize.ops import Pseudonymizer
from hub.sanitize.overrides import validate_overrides
from hub.sanitize.policy import Policy, PolicyError
from hub.sanitize.registry import CompiledPolicy, PolicySet, default_policies
from hub.security.hashing import SecretHasher


def pseudonymizer_for(hasher: SecretHasher, tenant_id: str) -> Pseudonymizer:
    """The tenant's ``hash`` key: derived from the installation pepper, never stored."""
    return Pseudonymizer(hasher.derive("sanitize:" + tenant_id))


__all__ = [
    "CompiledPolicy",
    "Policy",
    "PolicyError",
    "PolicySet",
    "Pseudonymizer",
    "default_policies",
    "pseudonymizer_for",
    "validate_overrides",
]
