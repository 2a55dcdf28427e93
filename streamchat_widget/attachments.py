"""Values attached to a prompt (`%%chat --with`, `chat(with_=...)`), within a budget.

Each value becomes message parts ahead of the question: a text part that names
it and says what it is (then its description, or "the image follows" and an
image part with a `data:` URL). Text is cut to a budget per value and per cell,
and an image over its byte budget is re-encoded smaller when its library can
(matplotlib, PIL) or left out; every cut is said in the part itself and in its
chip, never silent. Nothing is attached unless named.
"""

from __future__ import annotations

import base64
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .describe import (
    DescribeError,
    Description,
    Image,
    describe_async,
    pixel_size,
    scaled_png,
)

ATTACH_CHARS = 8000
ATTACH_CELL_CHARS = 24_000
ATTACH_IMAGE_BYTES = 1_000_000


class AttachmentError(ValueError):
    """An attachment that cannot be made; one line, raised before any request is sent."""


@dataclass(frozen=True)
class Budget:
    chars: int = ATTACH_CHARS  # text characters of one value
    cell_chars: int = ATTACH_CELL_CHARS  # text characters of all of a cell's values
    image_bytes: int = ATTACH_IMAGE_BYTES  # encoded bytes of one image

    @classmethod
    def of(cls, given: Mapping[str, Any]) -> Budget:
        """The budget from `chat()`'s keywords (`ChatMagics.attach_*` in a cell)."""
        return cls(given["attach_chars"], given["attach_cell_chars"], given["attach_image_bytes"])


@dataclass
class Attached:
    """A cell's attachments: the message parts sent, and a chip for each value."""

    parts: list[dict[str, Any]] = field(default_factory=list)
    chips: list[dict[str, str]] = field(default_factory=list)

    def content(self, prompt: str) -> str | list[dict[str, Any]]:
        """The user message's content: the prompt alone, or the attachments then the prompt."""
        return [*self.parts, {"type": "text", "text": prompt}] if self.parts else prompt


def from_namespace(names: Sequence[str], namespace: Mapping[str, Any]) -> dict[str, Any]:
    """`--with a,b -w c` -> {name: value}; a name the namespace lacks is refused."""
    wanted = [n.strip() for group in names for n in group.split(",") if n.strip()]
    missing = [n for n in wanted if n not in namespace]
    if missing:
        raise AttachmentError(f"--with: not defined: {', '.join(dict.fromkeys(missing))}")
    return {name: namespace[name] for name in wanted}


def named(values: Sequence[Any] | Mapping[str, Any] | None) -> dict[str, Any]:
    """`with_` as {name: value}: a mapping as given, a list's values as [1], [2], ..."""
    if values is None:
        return {}
    if isinstance(values, Mapping):
        for name in values:
            if not isinstance(name, str) or not name.strip():
                raise AttachmentError(f"with_: names must be non-empty text, got {name!r}")
        return dict(values)
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise AttachmentError(
            f"with_ takes a list of values or a mapping of names to values, "
            f"not {type(values).__name__}"
        )
    return {f"[{number}]": value for number, value in enumerate(values, 1)}


async def attach(values: Mapping[str, Any], budget: Budget) -> Attached:
    """Describe each value and turn it into parts; a value that cannot be described is refused."""
    attached = Attached()
    left = budget.cell_chars
    for name, value in values.items():
        try:
            description = await describe_async(value)
        except DescribeError as exc:
            raise AttachmentError(f"cannot attach {name}: {exc}") from None
        if _holds_the_key(description.text):
            raise AttachmentError(
                f"cannot attach {name}: it holds the API key (OPENAI_API_KEY), "
                "which never goes into a request, a notebook or a recording"
            )
        if description.image is not None:
            _add_image(attached, name, description, description.image, budget.image_bytes)
        else:
            left -= _add_text(attached, name, description, min(budget.chars, left), budget)
    return attached


def _holds_the_key(text: str) -> bool:
    """The configured API key in a value's text (an attached `os.environ`, a config dict)."""
    key = os.environ.get("OPENAI_API_KEY", "").strip()
    return len(key) >= 8 and key in text


def _add_text(
    attached: Attached, name: str, description: Description, allowed: int, budget: Budget
) -> int:
    """Add a value's text cut to `allowed` characters; return how many were sent."""
    text = description.text
    cut = ""
    if len(text) > allowed:
        which = "per value" if allowed == budget.chars else "left for this cell"
        if allowed <= 0:
            cut = "left out: the cell's attachment budget is used up"
            note = f"[{cut} ({budget.cell_chars:,} characters)]"
        else:
            cut = f"cut to {allowed:,} of {len(text):,} characters"
            note = f"\n\n[{cut}: the budget {which} is {allowed:,}]"
        text = text[: max(allowed, 0)] + note
    sent = min(len(description.text), max(allowed, 0))
    label = _label(name, description, _tokens(sent))
    attached.parts.append({"type": "text", "text": f"{label}:\n\n{text}"})
    attached.chips.append(_chip(name, description, _tokens(sent), cut))
    return sent


def _add_image(
    attached: Attached, name: str, description: Description, image: Image, limit: int
) -> None:
    cut = ""
    if len(image.data) > limit:
        smaller = scaled_png(image, limit)
        if smaller is None:
            cut = f"left out: {_kb(len(image.data))} is over the {_kb(limit)} image budget"
            label = _label(name, description, _kb(len(image.data)))
            attached.parts.append({"type": "text", "text": f"{label}: [{cut}]"})
            attached.chips.append(_chip(name, description, _kb(len(image.data)), cut))
            return
        cut = f"scaled down from {description.shape or _kb(len(image.data))} to fit {_kb(limit)}"
        image = smaller
        description = Description(description.kind, pixel_size(image.pixels), description.text)
    size = _kb(len(image.data))
    label = _label(name, description, size)
    said = f" ({description.text})" if description.text else ""
    attached.parts.append({"type": "text", "text": f"{label}{said}: the image follows."})
    url = f"data:{image.mime};base64,{base64.b64encode(image.data).decode('ascii')}"
    attached.parts.append({"type": "image_url", "image_url": {"url": url}})
    attached.chips.append(_chip(name, description, size, cut))


def _label(name: str, description: Description, size: str) -> str:
    facts = ", ".join(filter(None, [description.kind, description.shape, size]))
    return f"Attached `{name}` ({facts})"


def _chip(name: str, description: Description, size: str, cut: str) -> dict[str, str]:
    return {
        "name": name,
        "kind": description.kind,
        "shape": description.shape,
        "size": size,
        "cut": cut,
    }


def chip_text(chip: Mapping[str, str]) -> str:
    """One chip as a line: `df: pandas DataFrame · 3 rows by 2 columns · ~120 tokens`."""
    facts = " · ".join(chip[key] for key in ("kind", "shape", "size", "cut") if chip.get(key))
    return f"{chip['name']}: {facts}"


def chips_line(chips: Sequence[Mapping[str, str]]) -> str:
    """All chips as one line of text, for the saved copy and the terminal; '' for none."""
    return "Attached: " + "; ".join(chip_text(c) for c in chips) if chips else ""


def _tokens(chars: int) -> str:
    """About four characters a token: the size people budget a context window in."""
    return f"~{math.ceil(chars / 4):,} tokens"


def _kb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 1_000_000 else f"{math.ceil(size / 1000)} KB"
