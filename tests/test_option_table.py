"""`options.OPTIONS` is the one declaration: the cell parser, the `ChatMagics` traits and
`chat()`'s keywords are all made from it, and a cell's value beats the configured one."""

from __future__ import annotations

import argparse
import inspect

import pytest

from streamchat_widget import api, options
from streamchat_widget.magic import ChatMagics
from streamchat_widget.request import build_request, sent_options


def _parsed(line: list[str]) -> argparse.Namespace:
    return ChatMagics.chat.parser.parse_args(line)


def test_every_cell_option_is_a_flag_of_the_parser_with_its_help():
    parser = ChatMagics.chat.parser
    by_flag = {flag: action for action in parser._actions for flag in action.option_strings}
    for option in options.CELL_OPTIONS:
        for flag in option.flags:
            assert by_flag[flag].help == option.help
    declared = {flag for o in options.CELL_OPTIONS for flag in o.flags}
    assert set(by_flag) - {"-h", "--help"} == declared


def test_every_configured_default_is_a_chatmagics_trait_with_its_help():
    traits = ChatMagics.class_traits(config=True)
    defaults = ChatMagics().trait_values()
    declared = {o.trait: o for o in options.OPTIONS if o.trait}
    assert set(traits) == set(declared)
    for name, option in declared.items():
        assert traits[name].help == option.config_help
        assert defaults[name] == option.config


def test_chat_keywords_are_the_declared_ones_and_an_unknown_one_is_refused():
    parameters = inspect.signature(api.chat).parameters
    assert list(parameters) == ["prompt", *options.KEYWORDS, "cell_id", "on_reply"]
    for name, option in options.KEYWORDS.items():
        assert parameters[name].default == option.default
        assert parameters[name].kind is inspect.Parameter.KEYWORD_ONLY
    with pytest.raises(TypeError, match=r"^chat\(\) got an unexpected keyword argument 'top_k'$"):
        options.check_keywords("chat", ["model", "top_k"])


def test_a_cell_value_beats_the_configured_one_and_empty_text_means_unset():
    configured = ChatMagics().trait_values() | {
        "model": "configured-model",
        "temperature": 0.7,
        "system": "",
        "conversation": "notes",
    }
    given = options.chat_keywords(_parsed(["-m", "cell-model", "-t", "0"]), configured)
    assert (given["model"], given["temperature"]) == ("cell-model", 0.0)
    assert given["conversation"] == "notes"
    assert given["default_system"] is None  # an empty ChatMagics.system sets nothing
    assert given["new"] is False
    fallback = options.chat_keywords(_parsed(["-m", "", "-s", ""]), configured)
    assert fallback["model"] == "configured-model"
    assert fallback["system"] == ""  # `-s ""` clears the system prompt, as written


def test_a_flag_of_kind_bool_leaves_room_for_the_configured_true():
    assert _parsed([]).vars is None
    assert _parsed(["--vars"]).vars is True


def test_request_parameters_reach_the_request_and_its_provenance():
    assert options.REQUEST_PARAMETERS == ("temperature", "max_tokens")
    request = build_request("m", [], options={"top_p": 0.5}, temperature=0.2, max_tokens=None)
    assert request == {
        "model": "m",
        "messages": [],
        "temperature": 0.2,
        "extra_body": {"top_p": 0.5},
    }
    assert sent_options(request) == {"temperature": 0.2, "top_p": 0.5}
