"""Re-run the demo notebooks headlessly, offline, and keep their outputs.

    .venv/bin/python notebooks/execute.py            # rewrite every notebook in place
    .venv/bin/python notebooks/execute.py --check    # fail if any answer changed

Every notebook runs on the offline demo model or a committed replay file, so
this needs no network and no key. Widget state is not stored: each answer's
output is its static copy, which needs no widget to show.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
NOTEBOOKS = [
    "quickstart",
    "conversations",
    "local-models",
    "stopping-and-errors",
    "python-api",
    "ask-about-your-data",
    "compare-models",
]
# How a comparison's Markdown separates its columns (streamchat_widget/comparison_copy.py).
COLUMN_BREAK = "\n\n---\n\n"


def offline_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "STREAMCHAT_"))}
    env["STREAMCHAT_DEMO_DELAY"] = "0.002"
    return env


def execute(path: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    saved, offline = os.environ.copy(), offline_env()  # read before the clear empties it
    os.environ.clear()
    os.environ.update(offline)
    try:
        # Widget state is saved as nbclient saves it: our answers leave none behind.
        NotebookClient(
            nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}
        ).execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    nbformat.validate(nb)
    return nb


def answers(nb: nbformat.NotebookNode) -> list[str]:
    """Each answer's Markdown without its last line (the timing footer changes every run)."""
    found = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            markdown = output.get("data", {}).get("text/markdown")
            if markdown is None:
                continue
            meta = output.get("metadata", {}).get("text/markdown", {}).get("streamchat", {})
            if "comparison" in meta:  # the note, then each column's answer with its footer
                columns = markdown.split(COLUMN_BREAK)[1:]
                found.extend(column.rsplit("\n\n", 1)[0] for column in columns)
            else:
                found.append(markdown.rsplit("\n\n", 1)[0])
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not rewrite")
    args = parser.parse_args()
    changed = []
    for name in NOTEBOOKS:
        path = HERE / f"{name}.ipynb"
        committed = nbformat.read(path, as_version=4)
        fresh = execute(path)
        if args.check:
            if answers(fresh) != answers(committed):
                changed.append(name)
        else:
            nbformat.write(fresh, path)
        print(f"{name}: {len(answers(fresh))} answers")
    if changed:
        print(f"answers differ from the committed ones: {', '.join(changed)}")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
