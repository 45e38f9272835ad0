"""Logging for the command line, with secrets redacted at every level."""

from __future__ import annotations

import logging
import re

# Values of these keys never reach a log line, whatever the level.
SECRET_KEYS = (
    "AccessKeySecret",
    "access_key_secret",
    "SecurityToken",
    "security_token",
    "PrivateKey",
    "private_key",
    "Signature",
    "Authorization",
    "x-acs-security-token",
)
_SECRET_PATTERN = re.compile(
    r"(?P<key>" + "|".join(re.escape(k) for k in SECRET_KEYS) + r")"
    r"(?P<sep>['\"]?\s*[:=]\s*['\"]?)(?P<value>[^'\"&,\s}]+)",
    re.IGNORECASE,
)
_PEM_PATTERN = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----",
    re.DOTALL,
)


def redact(text: str) -> str:
    """Replace secret values and private keys in ``text`` with ``***``."""
    text = _PEM_PATTERN.sub("-----PRIVATE KEY REDACTED-----", text)
    return _SECRET_PATTERN.sub(lambda m: f"{m['key']}{m['sep']}***", text)


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def setup_logging(level: int) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("slbsync").setLevel(level)
    # urllib3 logs whole request URLs at DEBUG, and the SDK puts every
    # parameter (a certificate's private key included) in the query string.
    logging.getLogger("urllib3").setLevel(logging.WARNING)
