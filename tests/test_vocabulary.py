"""Python and TypeScript use the same statuses, sources and message types.

The TypeScript side is compiled by esbuild (the bundler the build uses) and read
back through Node, so what is compared is what the front end really exports.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from streamchat_widget import vocabulary
from streamchat_widget.widget import ChatWidget

JS = Path(__file__).resolve().parent.parent / "js"
ESBUILD = JS / "node_modules" / ".bin" / "esbuild"


@pytest.fixture(scope="module")
def typescript(tmp_path_factory) -> dict:
    node = shutil.which("node")
    if node is None or not ESBUILD.exists():
        pytest.skip("needs node and js/node_modules (npm ci in js/)")
    module = tmp_path_factory.mktemp("vocabulary") / "vocabulary.mjs"
    subprocess.run(
        [ESBUILD, str(JS / "src" / "vocabulary.ts"), "--format=esm", f"--outfile={module}"],
        check=True,
        capture_output=True,
    )
    printed = subprocess.run(
        [node, "--input-type=module", "-e",
         f"const m = await import({json.dumps(module.as_uri())}); "
         "console.log(JSON.stringify(m));"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(printed.stdout)


@pytest.mark.parametrize("name", ["STATUSES", "SOURCES", "MESSAGE_TYPES"])
def test_typescript_has_the_same_words_in_the_same_order(typescript, name):
    assert typescript[name] == list(getattr(vocabulary, name))


@pytest.mark.parametrize("name", ["STREAMING", "DELTA", "STOP", "CATCH_UP"])
def test_named_words_are_the_same_on_both_sides(typescript, name):
    assert typescript[name] == getattr(vocabulary, name)


def test_the_widget_status_trait_takes_exactly_the_statuses():
    trait = ChatWidget.class_traits()["status"]
    assert tuple(trait.values) == vocabulary.STATUSES
    assert trait.default_value == vocabulary.STREAMING


def test_the_named_words_belong_to_their_lists():
    assert {vocabulary.STREAMING, *vocabulary.ENDED} == set(vocabulary.STATUSES)
    assert set(vocabulary.KEPT) < set(vocabulary.ENDED)
    assert {vocabulary.MODEL_ENDPOINT, vocabulary.DEMO, vocabulary.REPLAY} == set(
        vocabulary.SOURCES
    )
    assert {vocabulary.DELTA, vocabulary.STOP, vocabulary.CATCH_UP} == set(vocabulary.MESSAGE_TYPES)
