"""Spec problems: each says where, which field, and what to do."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from slbsync.errors import SpecError
from slbsync.spec.model import Location

PathPart = str | int
Path = tuple[PathPart, ...]

_PLAIN_KEY = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"
)


def format_path(path: Sequence[PathPart]) -> str:
    """``load_balancers.chat.listeners[1].port``; odd keys are quoted."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part and set(part) <= _PLAIN_KEY:
            text += f".{part}" if text else part
        else:
            text += f"[{_quote(part)}]"
    return text


def _quote(key: str) -> str:
    escaped = key.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


# A private key pasted where it does not belong must not be echoed back: from
# its first line on, whatever follows is dropped, even if the block is cut.
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*", re.DOTALL)


def scrub(text: str) -> str:
    """``text`` with any private key material replaced."""
    return _PRIVATE_KEY.sub("<private key removed>", text)


@dataclass(frozen=True, order=True)
class SpecProblem:
    """One thing wrong with a spec, printed ``file:line:col path: message``."""

    location: Location | None
    path: str
    message: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "message", scrub(self.message))
        object.__setattr__(self, "path", scrub(self.path))

    def __str__(self) -> str:
        if self.location is None and not self.path:
            return self.message  # a whole file: the message names it
        where = str(self.location) if self.location else "<spec>"
        if self.path:
            return f"{where} {self.path}: {self.message}"
        return f"{where}: {self.message}"


class SpecValidationError(SpecError):
    """A spec with one or more problems; ``problems`` lists them all."""

    def __init__(self, problems: Iterable[SpecProblem]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = [f"the spec has {count} {noun}:"]
        lines += [f"  {problem}" for problem in self.problems]
        super().__init__("\n".join(lines))


def parse_target_problem(text: str) -> SpecProblem:
    """Turn a target's ``"<location> <path>: <message>"`` into a SpecProblem."""
    where, _, rest = text.partition(" ")
    location = parse_location(where)
    if location is None:
        return SpecProblem(None, "", text)
    path, sep, message = rest.partition(": ")
    if not sep:
        return SpecProblem(location, "", rest)
    return SpecProblem(location, path, message)


def parse_location(text: str) -> Location | None:
    file, _, rest = text.rpartition(":")
    file, _, line = file.rpartition(":")
    if not (file and line.isdigit() and rest.isdigit()):
        return None
    return Location(file, int(line), int(rest))
