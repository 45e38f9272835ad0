"""``${VAR}`` and ``${VAR:-default}`` in spec values, from the environment."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from slbsync.spec.credentials import looks_secret

# ``$${`` is an escaped, literal ``${``; ``${...}`` that is not a valid
# reference is reported rather than left in place, so a typo cannot reach a
# load balancer as a literal string.
_REFERENCE = re.compile(
    r"\$\$\{"
    r"|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}"
    r"|\$\{(?P<bad>[^}]*)\}?"
)


SECRET_VARIABLE = (
    "a secret may not be filled into a spec (saved plans keep its values); "
    "targets read credentials from the environment themselves"
)


@dataclass(frozen=True)
class SubstitutionProblem:
    """A reference that could not be filled; ``offset`` is where it starts."""

    offset: int
    message: str


def substitute(
    text: str, environ: Mapping[str, str]
) -> tuple[str, list[SubstitutionProblem]]:
    """``text`` with its references filled, and what could not be filled."""
    problems: list[SubstitutionProblem] = []

    def fill(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        if match.group("bad") is not None:
            problems.append(
                SubstitutionProblem(
                    match.start(),
                    f'"{match.group(0)}" is not a variable reference; write '
                    "${NAME} or ${NAME:-default}, or $${ for a literal ${",
                )
            )
            return match.group(0)
        name, default = match.group("name"), match.group("default")
        if looks_secret(name):
            # The filled-in spec is kept in saved plans: a secret would leak.
            problems.append(SubstitutionProblem(match.start(), SECRET_VARIABLE))
            return ""
        value = environ.get(name)
        if value:
            return value
        if default is not None:
            return default
        if value is not None:
            return value
        problems.append(
            SubstitutionProblem(
                match.start(),
                f"environment variable {name} is not set; set it or give a "
                f"default with ${{{name}:-value}}",
            )
        )
        return ""

    return _REFERENCE.sub(fill, text), problems


def has_reference(text: str) -> bool:
    return "${" in text
