"""What a notebook value looks like to a model: a Markdown description or an image.

Most specific first: the object's own `_ai_repr_()`, then the data libraries
(pandas, polars, NumPy, matplotlib, PIL, IPython's `Image`), `pathlib.Path`,
`str`, `_repr_markdown_`, and `repr` last. No data library is imported here:
each is looked up in `sys.modules` only when the value's type comes from it,
so a value can only be one if its library is already loaded.

`_ai_repr_` follows the shape proposed in jupyter/enhancement-proposals #129:
called with no arguments (the keyword hints are not settled yet), it returns a
MIME bundle (`text/plain`, `text/markdown`, `image/png` as bytes or base64);
a plain string (the pre-proposal, #128) is taken as text.
"""

from __future__ import annotations

import base64
import binascii
import inspect
import io
import math
import pathlib
import struct
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from IPython.display import Image as IPythonImage

TABLE_ROWS = 5
TABLE_COLUMNS = 20
CELL_CHARS = 60
IMAGE_SUFFIXES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
                  ".gif": "image/gif", ".webp": "image/webp"}  # fmt: skip
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
BY = "\N{MULTIPLICATION SIGN}"  # "3 rows by 2 columns", as people write it


class DescribeError(ValueError):
    """A value that cannot be described; the message says why, in one line."""


@dataclass(frozen=True)
class Image:
    """Encoded image bytes, and a way to make a smaller copy when the library is at hand."""

    data: bytes
    mime: str = "image/png"
    source: Any = None  # a matplotlib figure or PIL image, which can be re-encoded smaller

    @property
    def pixels(self) -> tuple[int, int] | None:
        """Width and height from the PNG header, for the chip and the model's label."""
        if self.mime == "image/png" and self.data[:8] == _PNG_SIGNATURE and len(self.data) >= 24:
            width, height = struct.unpack(">II", self.data[16:24])
            return width, height
        return None


@dataclass(frozen=True)
class Description:
    """A value as the model gets it: Markdown text, or an image with a line about it."""

    kind: str  # "pandas DataFrame", "NumPy array", "text", ...
    shape: str  # rows by columns, width by height in px, an array's shape; "" if none
    text: str = ""
    image: Image | None = None


async def describe_async(value: Any, *, read_limit: int = 1_000_000) -> Description:
    """`describe`, awaiting an async `_ai_repr_` (#129 leaves sync or async open)."""
    if _has_own(value, "_ai_repr_") and inspect.iscoroutinefunction(type(value)._ai_repr_):
        try:
            bundle = await value._ai_repr_()
        except Exception as exc:
            raise DescribeError(f"_ai_repr_() failed: {type(exc).__name__}: {exc}") from None
        return from_ai_repr(bundle, type(value).__name__)
    return describe(value, read_limit=read_limit)


def describe(value: Any, *, read_limit: int = 1_000_000) -> Description:
    """Describe `value`; `read_limit` bounds how many characters of a file are read."""
    if _has_own(value, "_ai_repr_"):
        bundle = _call(value._ai_repr_, "_ai_repr_()")
        if inspect.isawaitable(bundle):
            getattr(bundle, "close", lambda: None)()
            raise DescribeError("_ai_repr_() is async; only describe_async can await it")
        return from_ai_repr(bundle, type(value).__name__)
    for check in (_pandas, _polars, _numpy, _matplotlib, _pil):
        found = check(value)
        if found is not None:
            return found
    if isinstance(value, IPythonImage):
        return _ipython_image(value)
    if isinstance(value, pathlib.PurePath):
        return _path(pathlib.Path(value), read_limit)
    if isinstance(value, str):
        return Description("text", f"{len(value):,} characters", value)
    if _has_own(value, "_repr_markdown_"):
        markdown = _call(value._repr_markdown_, "_repr_markdown_")
        if isinstance(markdown, tuple):  # (data, metadata), as IPython allows
            markdown = markdown[0]
        if isinstance(markdown, str):
            return Description(type(value).__name__, "", markdown)
    return Description(type(value).__name__, "", _call(lambda: repr(value), "repr"))


def from_ai_repr(bundle: Any, kind: str) -> Description:
    """An `_ai_repr_()` result: a MIME bundle, or a string."""
    if isinstance(bundle, str):
        return Description(kind, "", bundle)
    if not isinstance(bundle, dict):
        raise DescribeError(f"_ai_repr_() returned {type(bundle).__name__}, not a dict or str")
    text = bundle.get("text/markdown") or bundle.get("text/plain") or ""
    png = bundle.get("image/png")
    if png is not None:
        try:
            if isinstance(png, bytes):
                data = png
            else:  # base64 text, often wrapped in lines (`base64.encodebytes`)
                data = base64.b64decode("".join(png.split()), validate=True)
        except (AttributeError, binascii.Error, TypeError, ValueError):
            raise DescribeError("_ai_repr_() gave an image/png that is not base64") from None
        image = Image(data)
        return Description(kind, _pixels(image), str(text), image)
    if not isinstance(text, str) or not text:
        raise DescribeError("_ai_repr_() gave neither text/plain, text/markdown nor image/png")
    return Description(kind, "", text)


def _has_own(value: Any, name: str) -> bool:
    """A method on the value's type (not a class object's, nor a dynamic `__getattr__`)."""
    return not isinstance(value, type) and callable(getattr(type(value), name, None))


def _call(function: Any, what: str) -> Any:
    try:
        return function()
    except Exception as exc:
        raise DescribeError(f"{what} failed: {type(exc).__name__}: {exc}") from None


def _library(value: Any, module: str) -> Any:
    """The already-imported library `module` if `value`'s type comes from it, else None."""
    if type(value).__module__.split(".")[0] != module.split(".")[0]:
        return None
    return sys.modules.get(module)


def _table(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> str:
    """A Markdown table; each cell shown as text on one line, `|` escaped."""

    def cell(item: Any) -> str:
        text = " ".join(str(item).split()).replace("\\", "\\\\").replace("|", "\\|")
        return text if len(text) <= CELL_CHARS else f"{text[: CELL_CHARS - 1]}…"

    lines = ["| " + " | ".join(cell(h) for h in header) + " |"]
    lines.append("|" + "---|" * len(header))
    lines.extend("| " + " | ".join(cell(c) for c in row) + " |" for row in rows)
    return "\n".join(lines)


def _frame_text(
    columns: Sequence[str], dtypes: Sequence[Any], nulls: Sequence[int], head: str, rows: int
) -> str:
    shown = "" if len(columns) <= TABLE_COLUMNS else f" (first {TABLE_COLUMNS} columns)"
    schema = _table(["column", "dtype", "nulls"], zip(columns, dtypes, nulls, strict=True))
    first = f"First {min(rows, TABLE_ROWS)} of {rows:,} rows{shown}:"
    return f"Columns:\n\n{schema}\n\n{first}\n\n{head}"


def _pandas(value: Any) -> Description | None:
    pd = _library(value, "pandas")
    if pd is None:
        return None
    if isinstance(value, pd.DataFrame):
        rows, count = value.shape
        head = value.iloc[:TABLE_ROWS, :TABLE_COLUMNS]
        rows_shown = zip(head.index, head.itertuples(index=False), strict=True)
        table = _table(["", *map(str, head.columns)], [[index, *row] for index, row in rows_shown])
        nulls = [int(n) for n in value.isna().sum()]
        text = _frame_text([str(c) for c in value.columns], list(value.dtypes), nulls, table, rows)
        return Description("pandas DataFrame", f"{rows:,} rows {BY} {count:,} columns", text)
    if isinstance(value, pd.Series):
        head = value.iloc[:TABLE_ROWS]
        table = _table(["", str(value.name)], zip(head.index, head, strict=True))
        text = (
            f"Name: {value.name}, dtype: {value.dtype}, {int(value.isna().sum())} nulls.\n\n"
            f"First {len(head)} of {len(value):,} values:\n\n{table}"
        )
        return Description("pandas Series", f"{len(value):,} rows", text)
    return None


def _polars(value: Any) -> Description | None:
    pl = _library(value, "polars")
    if pl is None:
        return None
    if isinstance(value, pl.DataFrame):
        rows, count = value.shape
        head = value.head(TABLE_ROWS).select(value.columns[:TABLE_COLUMNS])
        nulls = [int(n) for n in value.null_count().row(0)]
        text = _frame_text(value.columns, value.dtypes, nulls, _table(head.columns, head.rows()),
                           rows)  # fmt: skip
        return Description("polars DataFrame", f"{rows:,} rows {BY} {count:,} columns", text)
    if isinstance(value, pl.Series):
        head = value.head(TABLE_ROWS)
        table = _table([value.name], [[item] for item in head.to_list()])
        text = (
            f"Name: {value.name}, dtype: {value.dtype}, {value.null_count()} nulls.\n\n"
            f"First {len(head)} of {len(value):,} values:\n\n{table}"
        )
        return Description("polars Series", f"{len(value):,} rows", text)
    return None


def _numpy(value: Any) -> Description | None:
    np = _library(value, "numpy")
    if np is None or not isinstance(value, np.ndarray):
        return None
    lines = [f"shape {value.shape}, dtype {value.dtype}, {value.size:,} elements"]
    numeric = value.dtype.kind in "biuf" and value.size
    if numeric:
        with np.errstate(all="ignore"):
            finite = value[np.isfinite(value)] if value.dtype.kind == "f" else value
            nans = value.size - finite.size
            if finite.size:
                lines.append(
                    f"min {finite.min()}, max {finite.max()}, mean {finite.mean():.6g}"
                    + (f", {nans:,} not finite" if nans else "")
                )
    values = np.array2string(value, threshold=20, edgeitems=3, max_line_width=100)
    text = "\n".join(lines) + f"\n\n```\n{values}\n```"
    return Description("NumPy array", f" {BY} ".join(f"{n:,}" for n in value.shape), text)


def _matplotlib(value: Any) -> Description | None:
    figure_module = _library(value, "matplotlib.figure")
    if figure_module is None:
        return None
    figure = value
    if not isinstance(figure, figure_module.Figure):
        axes = sys.modules.get("matplotlib.axes")
        if axes is None or not isinstance(value, axes.Axes) or value.figure is None:
            return None
        figure = value.figure
    image = Image(png_of_figure(figure, figure.dpi), source=figure)
    return Description(f"matplotlib {type(value).__name__}", _pixels(image), image=image)


def png_of_figure(figure: Any, dpi: float) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _pil(value: Any) -> Description | None:
    pil = _library(value, "PIL.Image")
    if pil is None or not isinstance(value, pil.Image):
        return None
    image = Image(png_of_pil(value), source=value)
    return Description("PIL image", _pixels(image), image=image)


def png_of_pil(picture: Any) -> bytes:
    buffer = io.BytesIO()
    mode = picture.mode if picture.mode in ("1", "L", "LA", "P", "RGB", "RGBA") else "RGBA"
    picture.convert(mode).save(buffer, format="PNG")
    return buffer.getvalue()


def _ipython_image(value: IPythonImage) -> Description:
    data = value.data
    if not isinstance(data, bytes):  # an Image(url=...) holds no bytes
        raise DescribeError("this IPython Image holds a URL, not image data; load it first")
    mime = IMAGE_SUFFIXES.get(f".{value.format}".lower())
    if mime is None:
        raise DescribeError(f"this IPython Image is {value.format}, not a PNG, JPEG, GIF or WebP")
    image = Image(data, mime)
    return Description("IPython Image", _pixels(image), image=image)


def _path(path: pathlib.Path, read_limit: int) -> Description:
    mime = IMAGE_SUFFIXES.get(path.suffix.lower())
    try:
        if mime is not None:
            image = Image(path.read_bytes(), mime)
            return Description("image file", _pixels(image), str(path), image)
        size = path.stat().st_size
        with path.open(encoding="utf-8") as file:
            text = file.read(read_limit + 1)
    except OSError as exc:
        raise DescribeError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise DescribeError(f"{path} is not UTF-8 text") from None
    return Description("text file", f"{size:,} bytes", text)


def _pixels(image: Image) -> str:
    return pixel_size(image.pixels)


def pixel_size(pixels: tuple[int, int] | None) -> str:
    return f"{pixels[0]} {BY} {pixels[1]} px" if pixels else ""


def scaled_png(image: Image, limit: int) -> Image | None:
    """A smaller PNG of a figure or PIL image, under `limit` bytes; None if it cannot be made."""
    source, data, scale = image.source, image.data, 1.0
    for _ in range(6):
        if source is None or len(data) <= limit:
            break
        scale *= math.sqrt(limit / len(data)) * 0.9
        if _library(source, "matplotlib.figure") is not None:
            data = png_of_figure(source, source.dpi * scale)
        else:
            width, height = source.size
            size = (max(1, int(width * scale)), max(1, int(height * scale)))
            data = png_of_pil(source.resize(size))
    return Image(data, "image/png", source) if source is not None and len(data) <= limit else None
