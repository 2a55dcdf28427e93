"""The describers and the budget, as pure functions (the kernel-level behaviour is in
test_attachments.py): what each kind of value becomes, and that no data library is
imported to find out."""

from __future__ import annotations

import asyncio
import base64
import subprocess
import sys
import textwrap

import pytest

from streamchat_widget.attachments import (
    AttachmentError,
    Budget,
    attach,
    chip_text,
    from_namespace,
    named,
)
from streamchat_widget.describe import BY, DescribeError, describe, describe_async, from_ai_repr


def test_loading_the_extension_and_describing_plain_values_imports_no_data_library():
    code = textwrap.dedent("""
        import asyncio, sys
        from streamchat_widget import api, attachments, magic, static_copy
        asyncio.run(attachments.attach({"s": "text", "n": 3}, attachments.Budget()))
        loaded = {"numpy", "pandas", "polars", "matplotlib", "PIL"} & set(sys.modules)
        print(sorted(loaded))
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "[]\n"


def test_a_look_alike_type_from_another_module_is_not_taken_for_pandas():
    DataFrame = type("DataFrame", (), {"__repr__": lambda self: "<my frame>", "shape": (1, 1)})
    described = describe(DataFrame())
    assert (described.kind, described.text) == ("DataFrame", "<my frame>")


def test_pandas_frame_names_every_column_with_dtype_and_nulls_and_shows_five_rows():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a|b": range(8), "note": ["x\ny"] * 7 + [None]})
    described = describe(frame)
    assert described.kind == "pandas DataFrame"
    assert described.shape == f"8 rows {BY} 2 columns"
    assert "| a\\|b | int64 | 0 |" in described.text
    assert "| note |" in described.text and " | 1 |" in described.text
    assert "First 5 of 8 rows:" in described.text
    assert "| 4 | 4 | x y |" in described.text and "| 5 |" not in described.text


def test_wide_frames_show_their_first_twenty_columns_and_say_so():
    pd = pytest.importorskip("pandas")
    described = describe(pd.DataFrame({f"c{i}": [i] for i in range(30)}))
    assert "(first 20 columns)" in described.text
    header = next(line for line in described.text.splitlines() if line.startswith("|  | c0"))
    assert "c19 |" in header and "c20" not in header
    assert "| c29 | int64 | 0 |" in described.text, "every column's dtype is still listed"


def test_polars_frame_and_series():
    pl = pytest.importorskip("polars")
    frame = pl.DataFrame({"x": [1, None, 3]})
    assert describe(frame).shape == f"3 rows {BY} 1 columns"
    assert "| x | Int64 | 1 |" in describe(frame).text
    series = describe(frame["x"])
    assert series.kind == "polars Series" and "1 nulls" in series.text


def test_numpy_arrays_summarise_numbers_and_elide_long_ones():
    np = pytest.importorskip("numpy")
    described = describe(np.array([1.0, np.nan, 3.0] + [2.0] * 100))
    assert described.shape == "103"
    assert "min 1.0, max 3.0" in described.text and "1 not finite" in described.text
    assert "..." in described.text, "a long array is elided"
    assert "dtype <U1" in describe(np.array(["a", "b"])).text


def test_ai_repr_bundles_and_strings():
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 8 + (4).to_bytes(4) * 2).decode()
    image = from_ai_repr({"text/plain": "a chart", "image/png": png}, "Chart")
    assert image.image is not None and image.image.pixels == (4, 4)
    assert image.text == "a chart" and image.shape == f"4 {BY} 4 px"
    wrapped = base64.encodebytes(base64.b64decode(png)).decode()  # lines of 76 characters
    assert from_ai_repr({"image/png": wrapped}, "Chart").image == image.image
    assert from_ai_repr("just text", "T").text == "just text"
    assert from_ai_repr({"text/markdown": "**md**", "text/plain": "plain"}, "T").text == "**md**"
    for bad, said in [
        ([1], "returned list"),
        ({"image/png": "%%%"}, "not base64"),
        ({"application/json": {}}, "neither text/plain"),
    ]:
        with pytest.raises(DescribeError, match=said):
            from_ai_repr(bad, "T")


def test_an_async_ai_repr_is_awaited_and_its_failure_is_one_line():
    class Chart:
        async def _ai_repr_(self, **kwargs):
            return {"text/plain": "rain by month"}

    class Broken:
        async def _ai_repr_(self, **kwargs):
            raise KeyError("series")

    assert asyncio.run(describe_async(Chart())).text == "rain by month"
    with pytest.raises(DescribeError, match=r"^_ai_repr_\(\) failed: KeyError: 'series'$"):
        asyncio.run(describe_async(Broken()))
    with pytest.raises(DescribeError, match="only describe_async can await it"):
        describe(Chart())


def test_names_come_from_the_namespace_or_the_mapping_or_the_position():
    assert list(from_namespace(["a,b", " c "], {"a": 1, "b": 2, "c": 3})) == ["a", "b", "c"]
    with pytest.raises(AttachmentError, match=r"^--with: not defined: x$"):
        from_namespace(["a,x", "x"], {"a": 1})
    assert named([10, 20]) == {"[1]": 10, "[2]": 20}
    assert named({"df": 1}) == {"df": 1}
    with pytest.raises(AttachmentError, match="not str"):
        named("df")


def test_budgets_cut_text_per_value_then_per_cell():
    budget = Budget(chars=10, cell_chars=15, image_bytes=100)
    attached = asyncio.run(attach({"a": "a" * 30, "b": "b" * 30, "c": "c" * 30}, budget))
    bodies = [p["text"].split(":\n\n", 1)[1] for p in attached.parts]
    assert bodies[0].startswith("a" * 10 + "\n\n[cut to 10 of 30")
    assert bodies[1].startswith("b" * 5 + "\n\n[cut to 5 of 30")
    assert bodies[2].startswith("[left out:")
    chip = "b: text · 30 characters · ~2 tokens · cut to 5 of 30 characters"
    assert chip_text(attached.chips[1]) == chip
    assert attached.content("Q?")[-1] == {"type": "text", "text": "Q?"}
