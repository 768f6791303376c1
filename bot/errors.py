"""Errors that cross layers and map to the CLI's exit codes."""

from __future__ import annotations

from collections.abc import Iterable


class ConfigError(Exception):
    """Settings or catalog are invalid; ``problems`` holds one line per problem.

    The CLI prints each line and exits with status 2 (CONTRACT.md), so every
    line names the setting or catalog key it is about.
    """

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems) or ["configuration is invalid"]
        super().__init__("; ".join(self.problems))


class StartFailure(Exception):
    """The process could not start for a reason outside the configuration (exit 1).

    Its message is the one line the CLI prints: what failed and what was tried.
    """
