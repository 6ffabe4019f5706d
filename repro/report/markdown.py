"""Render report blocks as GitHub-flavoured Markdown (tables via tabulate, images as relative links)."""
from __future__ import annotations

from tabulate import tabulate

from .document import Bullets, Heading, Image, Images, Para, Table


def _table(block: Table) -> list[str]:
    out = [tabulate(block.rows, headers=block.header, tablefmt="github", disable_numparse=True)]
    if block.caption:
        out = [f"*{block.caption}*", "", *out]
    return out + [""]


def _image(item: Image) -> str:
    alt = item.caption.replace("[", "(").replace("]", ")") or "figure"
    return f"![{alt}]({item.png})"


def _images(block: Images) -> list[str]:
    out = []
    for item in block.items:
        out += [_image(item), ""]
        if item.caption:
            out += [f"*{item.caption}*", ""]
    if block.caption:
        out += [block.caption, ""]
    return out


def render(blocks: list) -> str:
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            lines += ["#" * block.level + " " + block.text, ""]
        elif isinstance(block, Para):
            lines += [block.text, ""]
        elif isinstance(block, Bullets):
            lines += [f"- {item}" for item in block.items] + [""]
        elif isinstance(block, Table):
            lines += _table(block)
        elif isinstance(block, Images):
            lines += _images(block)
        else:
            raise TypeError(f"unknown report block {type(block).__name__}")
    return "\n".join(lines).rstrip() + "\n"
