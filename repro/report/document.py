"""A report as a list of format-neutral blocks; markdown.py and latex.py render the same blocks.

Inline text uses a tiny Markdown subset that both renderers understand: ``**bold**`` and ```code```.
Image paths are relative to the report folder.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Heading:
    level: int  # 1 = document title, 2 = part, 3 = job
    text: str


@dataclass
class Para:
    text: str


@dataclass
class Bullets:
    items: list[str]


@dataclass
class Table:
    """A plain table (``groups`` empty) or one whose columns come in groups of ``subcolumns``.

    ``header`` is the flat Markdown header (first entry: the row label); with groups, LaTeX draws a
    two-level header from ``groups`` × ``subcolumns`` instead.
    """
    header: list[str]
    rows: list[list[str]]
    caption: str = ""
    groups: list[str] = field(default_factory=list)
    subcolumns: list[str] = field(default_factory=list)


@dataclass
class Image:
    png: str
    pdf: str | None = None  # LaTeX prefers the PDF when there is one
    caption: str = ""


@dataclass
class Images:
    items: list[Image]
    caption: str = ""
    width: float = 1.0  # fraction of the line width per image in LaTeX
