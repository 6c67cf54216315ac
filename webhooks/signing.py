"""Standard Webhooks signatures, made by the ``standardwebhooks`` library itself."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret


def new_secret() -> str:
    """``whsec_`` and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signature_header(message_id: str, at: datetime, body: str, secrets_: list[str]) -> str:
    """``v1,<sig>`` for each secret, space-separated: during a rotation both verify."""
    return " ".join(Webhook(secret).sign(message_id, at, body) for secret in secrets_)
