"""Validate a rendered file with the real nginx binary before it goes live.

``nginx -t`` checks a whole configuration, so the candidate is checked as
the running nginx would see it: a copy of the main config, next to the
original (relative includes resolve from its directory), whose include of
the owned file points at the candidate instead. Nothing the user owns is
modified; the copy is removed afterwards.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import tempfile

from slbsync.errors import ConfigRejectedError, TargetError
from slbsync.targets.nginx.options import NginxOptions

log = logging.getLogger(__name__)

TEST_TIMEOUT = 30
_ERROR_LINE = re.compile(r"\[(emerg|alert|crit)\]\s*(?:\d+#\d+: )?(.*)")


def check_candidate(options: NginxOptions, candidate: str, target: str) -> None:
    """Run ``nginx -t`` with ``candidate`` in place of the owned file."""
    if not options.nginx_conf:
        raise TargetError(
            f"target {target}: nginx_conf is not set, so the rendered config "
            "cannot be tested with nginx -t; set nginx_conf to the main config "
            "the running nginx uses"
        )
    main_text = _read(options.nginx_conf, target)
    swapped = swap_include(main_text, options, candidate)
    if swapped is None:
        raise TargetError(
            f"target {target}: {options.nginx_conf} does not include "
            f"{options.config_path}; add `include {options.config_path};` at its "
            "main level (outside any block)"
        )

    directory = os.path.dirname(os.path.abspath(options.nginx_conf))
    fd, check_conf = tempfile.mkstemp(
        prefix=".slbsync-check-", suffix=".conf", dir=directory
    )
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(swapped)
        result = _run_test(options, check_conf, target)
    finally:
        os.unlink(check_conf)

    if result.returncode != 0:
        raise ConfigRejectedError(
            rejection_message(result.stderr, options, candidate, target)
        )


def swap_include(main_text: str, options: NginxOptions, candidate: str) -> str | None:
    """The main config with its include of the owned file aimed at ``candidate``."""
    directory = os.path.dirname(os.path.abspath(options.nginx_conf or ""))
    owned = os.path.abspath(options.config_path)
    found = []

    def replace(match: re.Match[str]) -> str:
        path = match.group(2)
        if os.path.abspath(os.path.join(directory, path)) != owned:
            return match.group(0)
        found.append(path)
        return f"{match.group(1)}{candidate};"

    pattern = re.compile(r"""^(\s*include\s+)["']?([^"';\s]+)["']?\s*;""", re.M)
    swapped = pattern.sub(replace, main_text)
    return swapped if found else None


def _run_test(
    options: NginxOptions, conf: str, target: str
) -> subprocess.CompletedProcess[str]:
    command = [options.binary, "-t", "-q", "-c", conf]
    if options.prefix:
        command[1:1] = ["-p", options.prefix]
    log.debug("validate: target=%s command=%s", target, " ".join(command))
    try:
        return subprocess.run(
            command, capture_output=True, text=True, timeout=TEST_TIMEOUT, check=False
        )
    except FileNotFoundError as err:
        raise TargetError(
            f"target {target}: the nginx binary {options.binary!r} was not found; "
            "install nginx or set the target option binary"
        ) from err
    except subprocess.TimeoutExpired as err:
        raise TargetError(
            f"target {target}: nginx -t did not finish within {TEST_TIMEOUT}s"
        ) from err


def rejection_message(
    stderr: str, options: NginxOptions, candidate: str, target: str
) -> str:
    """nginx's complaint, with the candidate's path shown as the owned file."""
    reasons = []
    for line in stderr.splitlines():
        match = _ERROR_LINE.search(line)
        if match and "test failed" not in line:
            reasons.append(match.group(2).replace(candidate, options.config_path))
    reason = "; ".join(reasons) or stderr.strip() or "no reason given"
    quoted = _quote_failing_line(reason, candidate, options.config_path)
    return (
        f"target {target}: nginx -t rejected the rendered config: {reason}{quoted}; "
        f"nothing was changed: {options.config_path} and the running nginx keep "
        "their current config"
    )


def _quote_failing_line(reason: str, candidate: str, shown: str) -> str:
    match = re.search(re.escape(shown) + r":(\d+)", reason)
    if not match or not os.path.exists(candidate):
        return ""
    number = int(match.group(1))
    with open(candidate) as handle:
        lines = handle.read().splitlines()
    if not 0 < number <= len(lines):
        return ""
    return f" (line {number}: `{lines[number - 1].strip()}`)"


def _read(path: str, target: str) -> str:
    try:
        with open(path) as handle:
            return handle.read()
    except OSError as err:
        raise TargetError(
            f"target {target}: cannot read nginx_conf {path}: {err.strerror}"
        ) from err
