"""The platform's data domains: one customer-managed key each, so that a single domain can be
crypto-shredded on its own (the AWS stack's XKS key ids, the platforms' keys, the audit)."""

from __future__ import annotations

from typing import Final

DATA_DOMAINS: Final[tuple[str, ...]] = ("database", "documents", "logs", "secrets", "backups")
