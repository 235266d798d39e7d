"""The one schema every dataset is mapped to: items, interactions, and a Dataset holding both.

Every loader (MovieLens ml-100k, MovieLens Latest-Small CSV, generic JSONL) returns a `Dataset`.
Ids are strings everywhere so that datasets and memory ids never depend on integer parsing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property


@dataclass(frozen=True)
class Item:
    """One catalog item. `categories` are the item's categories (for movies: genres)."""

    item_id: str
    title: str
    categories: tuple[str, ...] = ()
    year: int | None = None
    tags: tuple[str, ...] = ()
    description: str = ""

    @property
    def category(self) -> str:
        """The primary category (first listed), or "general"."""
        return self.categories[0] if self.categories else "general"

    @property
    def display_title(self) -> str:
        return f"{self.title} ({self.year})" if self.year else self.title

    @property
    def text(self) -> str:
        """The metadata text that is embedded for grounding (title, year, categories, tags)."""
        parts = [self.display_title]
        if self.categories:
            parts.append("Genres: " + ", ".join(self.categories))
        if self.tags:
            parts.append("Tags: " + ", ".join(self.tags[:12]))
        if self.description:
            parts.append(self.description)
        return ". ".join(parts)


@dataclass(frozen=True)
class Interaction:
    """A user's rating of an item. `rating` is on the dataset's scale (MovieLens: 0.5-5)."""

    user_id: str
    item_id: str
    rating: float
    timestamp: float = 0.0
    review: str = ""


@dataclass
class Dataset:
    """A catalog plus interaction history. `name` keys the memory collections of this dataset."""

    name: str
    items: dict[str, Item]
    interactions: list[Interaction] = field(default_factory=list)
    rating_scale: tuple[float, float] = (1.0, 5.0)

    @cached_property
    def by_user(self) -> dict[str, list[Interaction]]:
        """Interactions per user, oldest first."""
        grouped: dict[str, list[Interaction]] = defaultdict(list)
        for interaction in self.interactions:
            if interaction.item_id in self.items:
                grouped[interaction.user_id].append(interaction)
        for history in grouped.values():
            history.sort(key=lambda x: x.timestamp)
        return dict(grouped)

    @property
    def user_ids(self) -> list[str]:
        return sorted(self.by_user, key=lambda u: (len(u), u))

    @cached_property
    def categories(self) -> list[str]:
        return sorted({c for item in self.items.values() for c in item.categories})

    @cached_property
    def popularity(self) -> dict[str, int]:
        """Number of interactions per item id."""
        counts: dict[str, int] = defaultdict(int)
        for interaction in self.interactions:
            counts[interaction.item_id] += 1
        return dict(counts)

    def history(self, user_id: str) -> list[Interaction]:
        return self.by_user.get(user_id, [])
