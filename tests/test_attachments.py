"""`%%chat --with NAME` in a real ipykernel: what the loopback server receives for each kind
of value, the budget cuts, the history of the next cell, the one-line errors, the chips and
the static copy, replay of image parts, the Python API and the offline demo model."""

from __future__ import annotations

import base64
import json
import os
import struct
import subprocess
import sys

import pytest

from tests.sse_server import Plan

TIMES = "\N{MULTIPLICATION SIGN}"
# Values a notebook would hold; matplotlib through `Figure`, so the inline backend shows nothing.
SETUP = """\
import pathlib
import numpy as np
import pandas as pd
import polars as pl
from matplotlib.figure import Figure
from PIL import Image as PILImage
from IPython.display import Image as IPythonImage
df = pd.DataFrame({"city": ["Oslo", "Lima", None, "Pune"], "temp_c": [3.5, None, 21.0, 30.25]})
pldf = pl.DataFrame({"city": ["Oslo", None], "temp_c": [3.5, 4.0]})
arr = np.arange(12.0).reshape(3, 4)
fig = Figure(figsize=(4, 3), dpi=50)
fig.add_subplot().plot([1, 3, 2])
picture = PILImage.new("RGB", (30, 20), (200, 10, 10))
"""


@pytest.fixture
def data(kernel, server):
    """The kernel holding the values of `SETUP`, and a model that answers briefly."""
    server.add_model("seen", Plan(tokens=["Seen ", "it."]))
    assert kernel.run(SETUP, timeout=60).status == "ok"
    yield kernel
    kernel.run("%config ChatMagics.attach_chars = 8000\n"
               "%config ChatMagics.attach_cell_chars = 24000\n"
               "%config ChatMagics.attach_image_bytes = 1000000")  # fmt: skip


def _bodies(server) -> list[dict]:
    return [r.body for r in server.requests if r.path.endswith("/chat/completions")]


def _sent(server) -> list[dict]:
    """The parts of the last request's user message."""
    content = _bodies(server)[-1]["messages"][-1]["content"]
    assert isinstance(content, list), content
    return content


def _ask(kernel, cell: str) -> dict:
    kernel.widgets.clear()
    execution = kernel.run(cell)
    assert execution.status == "ok", execution.outputs
    (output,) = execution.displays.values()
    return output["data"]


def _png(part: dict) -> tuple[bytes, tuple[int, int]]:
    assert part["type"] == "image_url"
    header, _, encoded = part["image_url"]["url"].partition(",")
    assert header == "data:image/png;base64"
    data = base64.b64decode(encoded, validate=True)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return data, struct.unpack(">II", data[16:24])


def test_a_dataframe_is_a_text_part_with_shape_dtypes_nulls_and_first_rows(data, server):
    _ask(data, "%%chat -m seen --with df\nWhy are there nulls?")
    described, prompt = _sent(server)
    assert prompt == {"type": "text", "text": "Why are there nulls?"}
    text = described["text"]
    assert text.startswith(f"Attached `df` (pandas DataFrame, 4 rows {TIMES} 2 columns, ~")
    assert "| city | str | 1 |" in text or "| city | object | 1 |" in text
    assert "| temp_c | float64 | 1 |" in text
    assert "| 3 | Pune | 30.25 |" in text


def test_series_polars_and_numpy_are_described_as_text(data, server):
    data.run("temps = df.temp_c")
    _ask(data, "%%chat -m seen -w pldf,arr --with temps\nCompare.")
    polars, numpy, series, _ = (p["text"] for p in _sent(server))
    assert polars.startswith(f"Attached `pldf` (polars DataFrame, 2 rows {TIMES} 2 columns")
    assert "| temp_c | Float64 | 0 |" in polars and "| city | String | 1 |" in polars
    assert numpy.startswith(f"Attached `arr` (NumPy array, 3 {TIMES} 4,")
    assert "dtype float64" in numpy and "min 0.0, max 11.0, mean 5.5" in numpy
    assert series.startswith("Attached `temps` (pandas Series, 4 rows")
    assert "Name: temp_c, dtype: float64, 1 nulls." in series


def test_figures_and_images_are_png_image_parts(data, server, tmp_path):
    path = tmp_path / "dot.png"
    data.run(f"picture.save({str(path)!r}); dot = pathlib.Path({str(path)!r})\n"
             f"shot = IPythonImage(filename={str(path)!r})")  # fmt: skip
    _ask(data, "%%chat -m seen --with fig,picture,shot,dot\nWhat do these show?")
    parts = _sent(server)
    assert [p["type"] for p in parts] == ["text", "image_url"] * 4 + ["text"]
    labels = [p["text"] for p in parts[:-1:2]]
    assert labels[0].startswith(f"Attached `fig` (matplotlib Figure, 200 {TIMES} 150 px, ")
    assert labels[1].startswith(f"Attached `picture` (PIL image, 30 {TIMES} 20 px, ")
    assert labels[2].startswith("Attached `shot` (IPython Image")
    assert labels[3].startswith("Attached `dot` (image file")
    sizes = [_png(p)[1] for p in parts[1:-1:2]]
    assert sizes == [(200, 150), (30, 20), (30, 20), (30, 20)]
    assert _png(parts[3])[0] == path.read_bytes() == _png(parts[5])[0]


def test_text_files_strings_ai_repr_markdown_and_repr(data, server, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("line one\nline two\n", encoding="utf-8")
    data.run(f"""
notes = pathlib.Path({str(notes)!r})
question = "the string itself"
class Chart:
    def _ai_repr_(self, **kwargs):
        return {{"text/plain": "A chart of rain by month", "image/png": picture_png}}
class Slow:
    async def _ai_repr_(self, **kwargs):
        return {{"text/markdown": "**async** repr"}}
class Rich:
    def _repr_markdown_(self):
        return "*rich*"
import io; _b = io.BytesIO(); picture.save(_b, format="PNG"); picture_png = _b.getvalue()
chart, slow, rich, plain = Chart(), Slow(), Rich(), {{"a": 1}}
""")  # fmt: skip
    _ask(data, "%%chat -m seen -w notes,question,chart,slow,rich,plain\nAnd these?")
    parts = _sent(server)
    texts = [p.get("text", "") for p in parts]
    assert texts[0].startswith("Attached `notes` (text file, 18 bytes")
    assert texts[0].endswith(":\n\nline one\nline two\n")
    assert texts[1].endswith(":\n\nthe string itself")
    assert texts[2] == (
        f"Attached `chart` (Chart, 30 {TIMES} 20 px, 1 KB) (A chart of rain by month): "
        "the image follows."
    )
    assert _png(parts[3])[1] == (30, 20)
    assert texts[4].endswith(":\n\n**async** repr")
    assert texts[5].endswith(":\n\n*rich*")
    assert texts[6].endswith(":\n\n{'a': 1}")


def test_text_is_cut_to_the_budget_per_value_and_per_cell_saying_so(data, server):
    data.run("%config ChatMagics.attach_chars = 300\n%config ChatMagics.attach_cell_chars = 400\n"
             "long = 'x' * 1000")  # fmt: skip
    _ask(data, "%%chat -m seen -w long,df,arr\nSummarize.")
    first, second, third, _ = (p["text"] for p in _sent(server))
    assert first.partition("\n\n")[2].count("x") == 300
    assert first.endswith("[cut to 300 of 1,000 characters: the budget per value is 300]")
    assert "[cut to 100 of " in second and "the budget left for this cell is 100]" in second
    assert "[left out: the cell's attachment budget is used up (400 characters)]" in third
    chips = data.chat_widgets()[-1].state["attachments"]
    assert [c["cut"] for c in chips] == [
        "cut to 300 of 1,000 characters",
        chips[1]["cut"],
        "left out: the cell's attachment budget is used up",
    ]
    assert chips[1]["cut"].startswith("cut to 100 of ")


def test_images_over_their_budget_are_scaled_down_or_left_out_saying_so(data, server, tmp_path):
    path = tmp_path / "big.png"
    data.run("big = PILImage.effect_noise((300, 300), 90).convert('RGB')\n"
             f"big.save({str(path)!r}); bigfile = pathlib.Path({str(path)!r})\n"
             "%config ChatMagics.attach_image_bytes = 20000")  # fmt: skip
    _ask(data, "%%chat -m seen -w big,bigfile\nNoise?")
    scaled_label, scaled, left_out, _ = _sent(server)
    data_bytes, (width, height) = _png(scaled)
    assert len(data_bytes) <= 20_000 and width < 300 and height < 300
    assert f"PIL image, {width} {TIMES} {height} px" in scaled_label["text"]
    assert left_out["type"] == "text" and "[left out: " in left_out["text"]
    assert "over the 20 KB image budget]" in left_out["text"]
    chips = data.chat_widgets()[-1].state["attachments"]
    assert chips[0]["cut"] == f"scaled down from 300 {TIMES} 300 px to fit 20 KB"
    assert chips[1]["cut"].startswith("left out: ")


def test_the_next_cell_sends_the_attached_content_again_and_chat_messages_show_it(data, server):
    _ask(data, "%%chat -m seen -w df,fig\nWhat is in it?")
    first = _sent(server)
    _ask(data, "%%chat -m seen\nAnd the hottest city?")
    messages = _bodies(server)[-1]["messages"]
    assert messages[0] == {"role": "user", "content": first}
    assert messages[1] == {"role": "assistant", "content": "Seen it."}
    assert messages[2] == {"role": "user", "content": "And the hottest city?"}
    shown = data.run("import json; print(json.dumps(_chat.messages))").stdout
    assert json.loads(shown) == messages


def test_nothing_is_attached_unless_named(data, server):
    _ask(data, "%%chat -m seen\nWhat about df?")
    assert _bodies(server)[-1]["messages"] == [{"role": "user", "content": "What about df?"}]
    assert data.chat_widgets()[-1].state["attachments"] == []


def _refused(execution) -> str:
    """What a refused cell shows: its one output, on stderr."""
    assert execution.status == "error"
    (output,) = execution.outputs
    assert output["name"] == "stderr"
    return output["text"]


def test_an_unknown_name_is_one_line_and_nothing_is_sent(data, server):
    said = _refused(data.run("%%chat -m seen --with df,nope -w gone\nHi"))
    assert said == "UsageError: --with: not defined: nope, gone\n"
    said = _refused(data.run("%%chat -m seen --with df.temp_c\nHi"))
    assert said == "UsageError: --with: not defined: df.temp_c\n", "names, not expressions"
    assert _bodies(server) == []
    assert data.chat_widgets() == []


def test_a_value_that_cannot_be_described_is_one_line_and_nothing_is_sent(data, server, tmp_path):
    missing = tmp_path / "none.txt"
    data.run("class Broken:\n    def __repr__(self):\n        raise RuntimeError('no repr')\n"
             f"broken = Broken(); missing = pathlib.Path({str(missing)!r})")  # fmt: skip
    for name, said in [
        ("broken", "UsageError: cannot attach broken: repr failed: RuntimeError: no repr\n"),
        ("missing", f"UsageError: cannot attach missing: cannot read {missing}: "
                    "No such file or directory\n"),
    ]:  # fmt: skip
        assert _refused(data.run(f"%%chat -m seen -w df,{name}\nHi")) == said
    assert _bodies(server) == []
    assert data.run("print(_chat)").stdout == "None\n", "no reply: nothing happened"


def test_a_value_holding_the_api_key_is_refused_without_showing_it(data, server):
    data.run("import os; settings = {'env': dict(os.environ)}")
    said = _refused(data.run("%%chat -m seen -w settings\nWhat is set?"))
    assert said.startswith("UsageError: cannot attach settings: it holds the API key")
    assert server.api_key not in said
    assert _bodies(server) == []


def test_a_saved_conversation_loads_with_its_attached_parts(data, server, tmp_path):
    path = tmp_path / "attached.json"
    _ask(data, "%%chat -m seen -w df,fig\nWhat is in it?")
    first = _sent(server)
    assert "Saved 'default' (2 messages)" in data.run(f"%chat save {path}").stdout
    data.run("%chat reset --all")
    assert "Loaded 1 exchange(s)" in data.run(f"%chat load {path}").stdout
    _ask(data, "%%chat -m seen\nAnd now?")
    assert _bodies(server)[-1]["messages"][0] == {"role": "user", "content": first}
    history = data.run("%chat history").stdout
    assert "[1] user: What is in it?\n" in history


def test_chips_reach_the_widget_and_the_static_copies_as_inert_text(data, server):
    data.run("from streamchat_widget import chat")
    bundle = _ask(data, "await chat('Look.', model='seen', with_={'<b>x</b>': df, 'f': fig})")
    chips = data.chat_widgets()[-1].state["attachments"]
    assert chips == [
        {"name": "<b>x</b>", "kind": "pandas DataFrame", "shape": f"4 rows {TIMES} 2 columns",
         "size": chips[0]["size"], "cut": ""},
        {"name": "f", "kind": "matplotlib Figure", "shape": f"200 {TIMES} 150 px",
         "size": chips[1]["size"], "cut": ""},
    ]  # fmt: skip
    assert chips[0]["size"].startswith("~") and chips[0]["size"].endswith(" tokens")
    assert chips[1]["size"].endswith(" KB")
    line = f"<b>x</b>: pandas DataFrame · 4 rows {TIMES} 2 columns · {chips[0]['size']}"
    assert "&lt;b&gt;x&lt;/b&gt;: pandas DataFrame" in bundle["text/html"]
    assert "<b>x</b>" not in bundle["text/html"]
    assert bundle["text/markdown"].startswith("*Attached: &lt;b&gt;x&lt;/b&gt;: pandas DataFrame")
    assert bundle["text/plain"].startswith(f"[Attached: {line}; f: matplotlib Figure")
    assert [p["type"] for p in _sent(server)] == ["text", "text", "image_url", "text"]


def test_the_python_api_takes_a_list_of_values(data, server):
    data.run("from streamchat_widget import chat")
    _ask(data, "await chat('Both?', model='seen', with_=[df, fig])")
    labels = [p["text"] for p in _sent(server) if p["type"] == "text"]
    assert labels[0].startswith("Attached `[1]` (pandas DataFrame")
    assert labels[1].startswith("Attached `[2]` (matplotlib Figure")
    failed = data.run("await chat('x', model='seen', with_='df')")
    assert failed.error["ename"] == "AttachmentError"
    assert "with_ takes a list of values or a mapping" in failed.error["evalue"]


def test_image_parts_are_recorded_and_replayed(data, server, tmp_path):
    path = tmp_path / "figure.jsonl"
    data.run(f"%chat record {path}")
    _ask(data, "%%chat -m seen -c plots -w fig,df\nDescribe the plot.")
    data.run("%chat record --stop")
    (line,) = path.read_text(encoding="utf-8").splitlines()
    recorded = json.loads(line)["request"]["messages"][-1]["content"]
    assert recorded == _sent(server)
    assert _png(recorded[1])[1] == (200, 150)

    server.reset()
    assert "1 recorded" in data.run(f"%chat replay {path}").stdout
    data.run("%chat reset -c plots")
    try:
        bundle = _ask(data, "%%chat -m seen -c plots -w fig,df\nDescribe the plot.")
    finally:
        data.run("%chat replay --stop")
    assert _bodies(server) == [], "answered from the recording"
    assert data.chat_widgets()[-1].state["badge"] == "replay"
    assert "Seen it." in bundle["text/markdown"]


def test_the_demo_model_says_what_it_was_given(data, server):
    _ask(data, "%%chat -m demo -w df,fig\nWhat is in my data?")
    answer = data.chat_widgets()[-1].streamed_text
    assert "## What you attached" in answer
    assert f"Attached `df` (pandas DataFrame, 4 rows {TIMES} 2 columns" in answer
    assert f"Attached `fig` (matplotlib Figure, 200 {TIMES} 150 px" in answer
    assert "I received 1 image(s)" in answer


def test_a_plain_script_says_what_it_attached_on_stderr(server, tmp_path):
    script = tmp_path / "ask.py"
    script.write_text(
        "import asyncio, streamchat_widget\n"
        "asyncio.run(streamchat_widget.chat('Sum?', model='seen', with_={'numbers': [1, 2]}))\n"
    )
    server.add_model("seen", Plan(tokens=["Seen ", "it."]))
    env = {**os.environ, "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": server.api_key}
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Seen it.")
    assert "Attached: numbers: list · ~2 tokens" in done.stderr
    assert _sent(server)[0]["text"] == "Attached `numbers` (list, ~2 tokens):\n\n[1, 2]"
