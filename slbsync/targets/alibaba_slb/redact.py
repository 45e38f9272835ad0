"""Redaction of request parameters and texts before they reach a log line.

Targets may not import ``cli/``, so this is the target's own copy of the
rule: secrets, signatures, tokens and private keys never leave the process.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

SECRET_PARAMS = frozenset(
    {
        "accesskeysecret",
        "securitytoken",
        "signature",
        "authorization",
        "privatekey",
        "x-acs-security-token",
        "bearertoken",
    }
)

_SECRET_IN_TEXT = re.compile(
    r"(?P<key>AccessKeySecret|access_key_secret|SecurityToken|security_token|"
    r"Signature|Authorization|PrivateKey|private_key)"
    r"(?P<sep>['\"]?\s*[:=]\s*['\"]?)(?P<value>[^'\"&,\s}]+)",
    re.IGNORECASE,
)
_PEM_KEY = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----",
    re.DOTALL,
)


def redact_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Request parameters with every secret value replaced by ``***``."""
    return {
        key: "***" if key.lower() in SECRET_PARAMS else value
        for key, value in params.items()
    }


def redact_text(text: str) -> str:
    """``text`` with private keys and secret-looking values replaced."""
    text = _PEM_KEY.sub("-----PRIVATE KEY REDACTED-----", text)
    return _SECRET_IN_TEXT.sub(lambda m: f"{m['key']}{m['sep']}***", text)


class RedactingFilter(logging.Filter):
    """Redacts a record of a library that logs request URLs.

    SLB carries every parameter in the query string, and urllib3 logs the
    request line at DEBUG, so an upload's private key would reach any
    handler that lets DEBUG through. The record's text is redacted in place.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        cleaned = redact_text(text)
        if cleaned != text:
            record.msg, record.args = cleaned, None
        return True


_GUARDED = ("urllib3.connectionpool", "urllib3", "requests")


def guard_library_logs() -> None:
    """Attach ``RedactingFilter`` to the HTTP libraries' loggers, once."""
    for name in _GUARDED:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
