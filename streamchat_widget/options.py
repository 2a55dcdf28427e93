"""Every option of a chat, declared once.

A row says what the option is called in each place it shows up: its `%%chat`
flags and help, the `ChatMagics` trait that gives its default (`%config`), the
`chat()` keyword, and whether it is a request parameter (so the provenance of
the static copy shows it). The cell parser, the traits and `chat()`'s keywords
are all made from `OPTIONS`; adding an option is adding a row here (and
handling it where it takes effect).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from traitlets import Bool, Dict, Float, Int, TraitType, Unicode

from .attachments import ATTACH_CELL_CHARS, ATTACH_CHARS, ATTACH_IMAGE_BYTES
from .conversation import DEFAULT
from .endpoint import DEFAULT_READ_TIMEOUT

_TRAITS: dict[type, Callable[..., TraitType[Any, Any]]] = {
    str: Unicode,
    bool: Bool,
    float: Float,
    int: Int,
    dict: Dict,
}


@dataclass(frozen=True)
class Option:
    """One option; an empty field means the option does not show up in that place."""

    keyword: str  # the `chat()` keyword ("" for a cell-only flag)
    kind: type  # str, bool, float, int, dict or list (values to attach)
    default: Any = None  # the `chat()` default
    flags: tuple[str, ...] = ()  # the `%%chat` flags, short one first
    help: str = ""  # the flag's line in `%%chat?`
    trait: str = ""  # the `ChatMagics` trait whose value stands in when the cell omits it
    config: Any = None  # that trait's default; None is allowed when the option is optional
    config_help: str = ""  # that trait's help, for `%config ChatMagics`
    request: bool = False  # a Chat Completions parameter: sent, and shown in the provenance
    parse: Mapping[str, Any] = field(default_factory=dict)  # argparse extras (action, metavar)
    repeatable: bool = False  # given more than once, the cell compares (see `comparison`)

    @property
    def dest(self) -> str:
        """The attribute the parsed cell line keeps this option in."""
        return self.flags[-1].lstrip("-").replace("-", "_")

    def argument(self) -> tuple[tuple[str, ...], dict[str, Any]]:
        """`add_argument` arguments for the cell parser."""
        extras: dict[str, Any] = {"help": self.help, **self.parse}
        if self.repeatable:
            extras.setdefault("action", "append")
        if self.kind is bool:  # None when absent, so `%config` can still say True
            extras.setdefault("action", "store_true")
            extras.setdefault("default", None)
        elif self.kind in (float, int):
            extras.setdefault("type", self.kind)
        return self.flags, extras

    def make_trait(self) -> TraitType[Any, Any]:
        optional = self.config is None and self.kind is not dict
        args = () if self.kind is dict else (self.config,)
        trait = _TRAITS[self.kind](*args, allow_none=optional, help=self.config_help)
        return trait.tag(config=True)

    def resolve(self, cell: Any, configured: Mapping[str, Any]) -> Any:
        """The value `%%chat` passes on: the cell's, else the configured default.

        A repeatable option passes on its first value (see `resolve_all` for all of them).
        """
        if self.repeatable:
            cell = cell[0] if cell else None
        if self.trait and (cell is None or cell == ""):
            cell = configured[self.trait]
            return None if cell == "" and self.default is None else cell
        return self.default if cell is None else cell

    def resolve_all(self, cell: Any, configured: Mapping[str, Any]) -> list[Any]:
        """Every value of a repeatable option, in the order given, each resolved."""
        return [self.resolve([value], configured) for value in cell or [None]]


OPTIONS: tuple[Option, ...] = (
    Option(
        "model", str, flags=("-m", "--model"),
        help="Model to ask (default: ChatMagics.model). Repeat it to compare models side by side.",
        parse={"metavar": "MODEL"}, repeatable=True, trait="model", config="", config_help=(
            "Default model. Empty: $STREAMCHAT_MODEL, else 'demo' offline or 'gpt-4o-mini'."
        ),
    ),
    Option(
        "conversation", str, DEFAULT, flags=("-c", "--conversation"),
        help="Conversation to continue (created on first use).",
        trait="conversation", config=DEFAULT, config_help="Conversation used without -c.",
    ),
    Option(
        "new", bool, False, flags=("--new",),
        help="Start the conversation afresh with this cell.",
    ),
    Option(
        "system", str, flags=("-s", "--system"),
        help="System prompt for this conversation, from this cell on.",
    ),
    Option(
        "default_system", str, trait="system", config="",
        config_help="System prompt for conversations that set none.",
    ),
    Option(
        "temperature", float, flags=("-t", "--temperature"), help="Sampling temperature.",
        trait="temperature", config_help="Default temperature.", request=True,
    ),
    Option(
        "max_tokens", int, flags=("--max-tokens",), help="Most tokens to generate.",
        trait="max_tokens", config_help="Default max_tokens.", request=True,
    ),
    Option(
        "max_history", int, flags=("--max-history",), help="Send at most N earlier exchanges.",
        trait="max_history", config_help="Send at most this many earlier exchanges (None: all).",
    ),
    Option(
        "options", dict, flags=("-o", "--option"),
        help="Request option sent as is (VALUE parsed as JSON if it can be). Repeatable.",
        parse={"action": "append", "default": [], "metavar": "KEY=VALUE"},
        trait="options", config={},
        config_help="Default request options, as -o KEY=VALUE (the same keys are refused).",
    ),
    Option(
        "", int, flags=("--keep",),
        help="With several -m: the column (1, 2, ...) whose answer enters the conversation.",
        parse={"metavar": "N"},
    ),
    Option(
        "with_", list, None, flags=("-w", "--with"),
        help="Attach these namespace values to the prompt (comma-separated). Repeatable.",
        parse={"action": "append", "default": [], "metavar": "NAME[,NAME...]"},
    ),
    Option(
        "attach_chars", int, ATTACH_CHARS, trait="attach_chars", config=ATTACH_CHARS,
        config_help="Characters of text sent for one attached value (the rest is cut, saying so).",
    ),
    Option(
        "attach_cell_chars", int, ATTACH_CELL_CHARS, trait="attach_cell_chars",
        config=ATTACH_CELL_CHARS,
        config_help="Characters of text sent for all of a cell's attached values together.",
    ),
    Option(
        "attach_image_bytes", int, ATTACH_IMAGE_BYTES, trait="attach_image_bytes",
        config=ATTACH_IMAGE_BYTES,
        config_help="Bytes of one attached image (figures and PIL images are scaled to fit).",
    ),
    Option(
        "", str, flags=("--out",), help="Also store the reply (or replies) in this variable.",
        parse={"metavar": "NAME"},
    ),
    Option(
        "", bool, False, flags=("--vars",), help="Fill {name} from the namespace ({{ }} stay).",
        trait="vars", config=False,
        config_help="Fill {name} in prompts from the namespace, as --vars.",
    ),
    Option(
        "read_timeout", float, DEFAULT_READ_TIMEOUT, trait="timeout",
        config=DEFAULT_READ_TIMEOUT,
        config_help="Seconds to wait for the server's next bytes before giving up.",
    ),
    Option(
        "max_height", int, 480, trait="max_height", config=480,
        config_help="Height (px) of an answer's scroll area in the widget.",
    ),
    Option(
        "", float, trait="replay_speed", config=1.0,
        config_help="Replay at this many times the recorded pace (0: no waiting).",
    ),
)  # fmt: skip

CELL_OPTIONS = tuple(o for o in OPTIONS if o.flags)
KEYWORDS = {o.keyword: o for o in OPTIONS if o.keyword}
REQUEST_PARAMETERS = tuple(o.keyword for o in OPTIONS if o.request)


def config_traits() -> dict[str, TraitType[Any, Any]]:
    """The `ChatMagics` traits, for `%config ChatMagics.<name> = ...`."""
    return {o.trait: o.make_trait() for o in OPTIONS if o.trait}


def chat_keywords(cell: Any, configured: Mapping[str, Any]) -> dict[str, Any]:
    """`chat()` keywords from a parsed cell line, with configured defaults filled in."""
    return {
        o.keyword: o.resolve(getattr(cell, o.dest) if o.flags else None, configured)
        for o in KEYWORDS.values()
    }


def cell_models(cell: Any, configured: Mapping[str, Any]) -> list[Any]:
    """The models a parsed cell line asks, in order; more than one makes a comparison."""
    option = KEYWORDS["model"]
    return option.resolve_all(getattr(cell, option.dest), configured)


def check_keywords(function: str, keywords: Iterable[str]) -> None:
    """Refuse an unknown keyword as Python would for a written-out signature."""
    for name in keywords:
        if name not in KEYWORDS:
            raise TypeError(f"{function}() got an unexpected keyword argument {name!r}")


def keyword_parameters() -> list[inspect.Parameter]:
    """The options as keyword-only parameters, for `chat()`'s signature and help."""
    return [
        inspect.Parameter(
            o.keyword,
            inspect.Parameter.KEYWORD_ONLY,
            default=o.default,
            annotation=_annotation(o),
        )
        for o in KEYWORDS.values()
    ]


def _annotation(option: Option) -> str:
    names: dict[type, str] = {dict: "Mapping[str, Any]", list: "Sequence[Any] | Mapping[str, Any]"}
    name = names.get(option.kind, option.kind.__name__)
    return name if option.default is not None else f"{name} | None"
