"""The body of a `%%chat` cell reaches the server exactly as written, in a real kernel.

IPython's own cleanup strips `>>> `, `... ` and `In [n]:` prompts from a cell;
a question about a doctest or a REPL session must keep them, on the awaited
path and on the blocking one alike, and a CRLF cell sends what an LF one does.
"""

from __future__ import annotations

import pytest

TRANSCRIPT = (
    "Why does this doctest fail?\n"
    ">>> import numpy as np\n"
    ">>> np.zeros(3)[5]\n"
    "Traceback (most recent call last):\n"
    "    ...\n"
    "IndexError: index 5 is out of bounds for axis 0 with size 3\n"
    "\n"
    "In [1]: x = {'a': 1}\n"
    "   ...: x['b']\n"
    "... and the ellipsis line\n"
    "    >>> indented prompt\n"
    ">>> last line"
)


def _sent_prompt(kernel, server, cell: str) -> str:
    server.reset()
    execution = kernel.run(cell)
    assert execution.status == "ok", execution.outputs
    (request,) = server.requests
    return request.body["messages"][-1]["content"]


@pytest.mark.parametrize("leading", ["", "\n\n  \n"], ids=["first-line", "after-blank-lines"])
def test_a_transcript_body_is_sent_byte_exact_from_an_async_cell(kernel, server, leading):
    cell = f"{leading}%%chat -m echo --new -c verbatim\n{TRANSCRIPT}\n"
    assert _sent_prompt(kernel, server, cell) == TRANSCRIPT


def test_a_transcript_body_is_sent_byte_exact_when_the_kernel_cannot_await(kernel, server):
    assert kernel.run("%autoawait False").status == "ok"
    try:
        cell = f"%%chat -m echo --new -c verbatim\n{TRANSCRIPT}\n"
        assert _sent_prompt(kernel, server, cell) == TRANSCRIPT
        assert kernel.run("print(_chat.text == _chat.messages[-1]['content'])").stdout == "True\n"
    finally:
        kernel.run("%autoawait True")


@pytest.mark.parametrize("autoawait", [True, False], ids=["async", "blocking"])
def test_a_crlf_cell_sends_no_carriage_return(kernel, server, autoawait):
    kernel.run(f"%autoawait {autoawait}")
    try:
        body = "First line\n  indented\n\nlast line"
        cell = f"%%chat -m echo --new -c verbatim\n{body}\n".replace("\n", "\r\n")
        assert _sent_prompt(kernel, server, cell) == body
    finally:
        kernel.run("%autoawait True")
