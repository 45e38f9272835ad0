"""The PEM files HAProxy reads certificates from, owned by slbsync.

HAProxy's ``crt`` takes the certificate chain and its private key in one
file, so slbsync writes that file itself from the spec's two, mode 0600, in
``certificate_dir``. A file's name carries the certificate's fingerprint
(``<name>.<sha1 hex>.pem``): a renewed certificate is a new file and a new
``bind`` line, so the config changes and HAProxy reloads, and the file a
running HAProxy loaded is never overwritten (a rejected config or a failed
reload leaves the old one in place). Files no live config names are removed
after each commit. The key is copied byte for byte and never logged.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from slbsync.errors import TargetError
from slbsync.spec.certificates import fingerprint_of

log = logging.getLogger(__name__)

OWNED_PEM = re.compile(r"^(?P<name>.+)\.(?P<hex>[0-9a-f]{40})\.pem$")


@dataclass(frozen=True)
class CertificateSource:
    """A certificate as the spec gives it: the user's files."""

    name: str
    kind: str  # server | ca
    certificate_file: str
    private_key_file: str | None = None


@dataclass(frozen=True)
class OwnedCertificate:
    """A certificate written for HAProxy: its name, kind and fingerprint."""

    name: str
    kind: str
    fingerprint: str  # ab:cd:..., as the spec's Certificate.fingerprint

    def path(self, directory: Path) -> Path:
        return directory / f"{self.name}.{self.fingerprint.replace(':', '')}.pem"


def name_of(path: str) -> str | None:
    """The certificate name in an owned PEM file's name, else None."""
    match = OWNED_PEM.match(Path(path).name)
    return match["name"] if match else None


def write_owned_pem(source: CertificateSource, directory: Path) -> OwnedCertificate:
    """Write ``source`` as one PEM HAProxy can load (chain, then key)."""
    chain = _read(source.certificate_file, source.name, "certificate_file")
    try:
        leaf = x509.load_pem_x509_certificates(chain)[0]
    except ValueError as err:
        raise TargetError(
            f"certificate {source.name}: {source.certificate_file} holds no PEM "
            "certificate; give a PEM file"
        ) from err
    owned = OwnedCertificate(source.name, source.kind, fingerprint_of(leaf))
    content = chain if chain.endswith(b"\n") else chain + b"\n"
    if source.kind != "ca":
        if not source.private_key_file:
            raise TargetError(
                f"certificate {source.name}: HAProxy needs its private key; give "
                "private_key_file"
            )
        content += _read(source.private_key_file, source.name, "private_key_file")
    path = owned.path(directory)
    if not path.exists():
        _write_private(path, content)
        log.info("haproxy: wrote certificate=%s file=%s", source.name, path)
    return owned


def remove_unused(directory: Path, used: set[Path]) -> None:
    """Delete the owned PEM files that no live config names."""
    try:
        for path in directory.iterdir() if directory.is_dir() else ():
            if OWNED_PEM.match(path.name) and path not in used:
                path.unlink(missing_ok=True)
                log.info("haproxy: removed unused certificate file=%s", path)
    except OSError as err:
        # Only tidying: an old file left behind does no harm, and the error
        # that ended the run (if any) is the one to report.
        log.warning("haproxy: cannot tidy %s: %s", directory, err.strerror)


def _read(path: str, name: str, field: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as err:
        raise TargetError(
            f"certificate {name}: cannot read {field} {path} ({err.strerror}); "
            "fix the path in the spec"
        ) from err


def _write_private(path: Path, content: bytes) -> None:
    # Created 0600 from the start, and renamed into place whole: the key is
    # never readable by others, and HAProxy never sees half a file.
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    pending = path.with_name(path.name + ".new")
    pending.unlink(missing_ok=True)
    descriptor = os.open(pending, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
    os.replace(pending, path)
