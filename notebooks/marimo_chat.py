"""streamchat-widget in marimo: `marimo edit notebooks/marimo_chat.py`.

The Python API, awaited at the top level of a cell: the answer streams into a
widget under the cell (Markdown live, a Stop button), then the widget is
replaced by the answer's static copy. With no key and no base URL set, the
offline demo model answers; `STREAMCHAT_MODEL` picks another model.
"""

import marimo

__generated_with = "0.25.2"
app = marimo.App()


@app.cell
def _():
    import streamchat_widget

    return (streamchat_widget,)


@app.cell
async def _(streamchat_widget):
    reply = await streamchat_widget.chat("Three ideas for a picnic, as a list under a heading.")
    return (reply,)


if __name__ == "__main__":
    app.run()
