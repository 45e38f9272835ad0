"""Credentials have no place in a spec: how to recognise them."""

from __future__ import annotations

import re

# Keys that carry credentials have no place in a spec, whatever their case
# or separators: AccessKeySecret, access-key-id, security_token, password...
_SECRET_WORDS = (
    "secret",
    "password",
    "passwd",
    "accesskey",
    "token",
    "apikey",
    "privatekey",
    "credential",
)
SECRET_HINT = (
    "credentials never go in a spec; remove it and let the credentials chain "
    "supply them (ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, "
    "a credentials file with the target's profile, or an ECS RAM role)"
)


def looks_secret(key: str) -> bool:
    folded = re.sub(r"[^a-z]", "", key.lower())
    return any(word in folded for word in _SECRET_WORDS)
