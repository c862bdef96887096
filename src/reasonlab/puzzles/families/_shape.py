"""The fixed wording a family's prompts share: a header, example lines and a query line."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PromptShape:
    family: str
    header: str
    example: re.Pattern[str]  # one match per example line; its groups are the example's fields
    query: re.Pattern[str]  # searched once; its groups are the query's fields

    def matches(self, prompt: str) -> bool:
        return prompt.startswith(self.header)

    def split(self, prompt: str) -> tuple[list, tuple[str, ...]]:
        """The example lines' groups and the query's groups; ``ValueError`` if either is missing."""
        examples = self.example.findall(prompt)
        query = self.query.search(prompt)
        if not examples:
            raise ValueError(f"{self.family} prompt without example lines like /{self.example.pattern}/")
        if query is None:
            raise ValueError(f"{self.family} prompt without a query line like /{self.query.pattern}/")
        return examples, query.groups()


class FixedWording:
    """Base for families whose prompts follow one :class:`PromptShape` and have no subtypes."""

    shape: PromptShape

    def matches(self, prompt: str) -> bool:
        return self.shape.matches(prompt)

    def subtype(self, instance: object) -> None:
        return None
