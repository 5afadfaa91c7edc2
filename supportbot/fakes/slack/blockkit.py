"""Block Kit as Slack checks it: the limits, and the errors Slack answers with.

Every message and view the fake receives goes through :func:`message_problems` or
:func:`view_problems`; a non-empty list means Slack would reject the call. Each problem is a
sentence in Slack's style, ending with the JSON pointer of the offending field, e.g.
``must be less than 3001 characters [json-pointer:/blocks/0/text/text]``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final, Literal

Surface = Literal["message", "modal", "home"]

MESSAGE_MAX_BLOCKS: Final = 50
VIEW_MAX_BLOCKS: Final = 100
MESSAGE_TEXT_MAX: Final = 40_000
SECTION_TEXT_MAX: Final = 3_000
SECTION_FIELD_MAX: Final = 2_000
SECTION_FIELDS_MAX_ITEMS: Final = 10
HEADER_TEXT_MAX: Final = 150
MARKDOWN_BLOCK_TEXT_MAX: Final = 12_000
CONTEXT_ELEMENTS_MAX: Final = 10
CONTEXT_TEXT_MAX: Final = 3_000
ACTIONS_ELEMENTS_MAX: Final = 25
INPUT_LABEL_MAX: Final = 2_000
INPUT_HINT_MAX: Final = 2_000
BUTTON_TEXT_MAX: Final = 75
BUTTON_VALUE_MAX: Final = 2_000
URL_MAX: Final = 3_000
ID_MAX: Final = 255  # action_id, block_id, callback_id, external_id
PLACEHOLDER_MAX: Final = 150
OPTION_TEXT_MAX: Final = 75
OPTION_VALUE_MAX: Final = 150
OPTION_DESCRIPTION_MAX: Final = 75
SELECT_OPTIONS_MAX: Final = 100
OVERFLOW_OPTIONS_MAX: Final = 5
CHOICE_OPTIONS_MAX: Final = 10  # checkboxes, radio buttons
TEXT_INPUT_LENGTH_MAX: Final = 3_000
IMAGE_ALT_TEXT_MAX: Final = 2_000
IMAGE_TITLE_MAX: Final = 2_000
CONFIRM_TITLE_MAX: Final = 100
CONFIRM_TEXT_MAX: Final = 300
CONFIRM_BUTTON_MAX: Final = 30
MODAL_TITLE_MAX: Final = 24
MODAL_BUTTON_TEXT_MAX: Final = 24  # submit, close
PRIVATE_METADATA_MAX: Final = 3_000
VIEW_MAX_BYTES: Final = 250_000

_BLOCKS_BY_SURFACE: Final[Mapping[Surface, frozenset[str]]] = {
    "message": frozenset(
        {
            "actions",
            "context",
            "divider",
            "file",
            "header",
            "image",
            "input",
            "markdown",
            "rich_text",
            "section",
            "video",
        }
    ),
    "modal": frozenset(
        {
            "actions",
            "context",
            "divider",
            "header",
            "image",
            "input",
            "rich_text",
            "section",
            "video",
        }
    ),
    "home": frozenset(
        {
            "actions",
            "context",
            "divider",
            "header",
            "image",
            "input",
            "rich_text",
            "section",
            "video",
        }
    ),
}
_SELECTS: Final = frozenset(
    {
        "static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
        "multi_static_select",
        "multi_external_select",
        "multi_users_select",
        "multi_conversations_select",
        "multi_channels_select",
    }
)
_INPUT_ELEMENTS: Final = _SELECTS | {
    "checkboxes",
    "datepicker",
    "datetimepicker",
    "email_text_input",
    "file_input",
    "number_input",
    "plain_text_input",
    "radio_buttons",
    "rich_text_input",
    "timepicker",
    "url_text_input",
}
_ACTION_ELEMENTS: Final = (_SELECTS | {"button", "overflow", "workflow_button"}) | {
    "checkboxes",
    "datepicker",
    "datetimepicker",
    "radio_buttons",
    "timepicker",
    "plain_text_input",
    "email_text_input",
    "url_text_input",
    "number_input",
    "rich_text_input",
}
_ACCESSORY_ELEMENTS: Final = _SELECTS | {
    "button",
    "checkboxes",
    "datepicker",
    "image",
    "overflow",
    "radio_buttons",
    "timepicker",
    "workflow_button",
}


def _at(pointer: str) -> str:
    return f"[json-pointer:{pointer}]"


class _Checker:
    """Walks one message's blocks or one view and collects Slack-style problems."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.block_ids: set[str] = set()

    def fail(self, problem: str, pointer: str) -> None:
        self.problems.append(f"{problem} {_at(pointer)}")

    # -- primitives -------------------------------------------------------------------
    def string(self, value: object, pointer: str, max_len: int, *, required: bool = True) -> None:
        if value is None:
            if required:
                self.fail("missing required field", pointer)
            return
        if not isinstance(value, str):
            self.fail("must be a string", pointer)
            return
        if len(value) > max_len:
            self.fail(f"must be less than {max_len + 1} characters", pointer)

    def identifier(self, value: object, pointer: str) -> None:
        if value is None:
            return
        self.string(value, pointer, ID_MAX)
        if isinstance(value, str) and not value:
            self.fail("must be more than 0 characters", pointer)

    def text(
        self,
        obj: object,
        pointer: str,
        max_len: int,
        *,
        plain_only: bool = False,
        required: bool = True,
    ) -> None:
        if obj is None:
            if required:
                self.fail("missing required field", pointer)
            return
        if not isinstance(obj, Mapping):
            self.fail("must be a text object", pointer)
            return
        kind = obj.get("type")
        allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
        if kind not in allowed:
            self.fail(f"must be one of {', '.join(allowed)}", f"{pointer}/type")
        value = obj.get("text")
        if not isinstance(value, str):
            self.fail("missing required field", f"{pointer}/text")
        elif not value:
            self.fail("must be more than 0 characters", f"{pointer}/text")
        elif len(value) > max_len:
            self.fail(f"must be less than {max_len + 1} characters", f"{pointer}/text")

    def items(
        self, value: object, pointer: str, max_items: int, *, min_items: int = 1
    ) -> list[Any]:
        if not isinstance(value, list):
            self.fail("must be an array", pointer)
            return []
        if len(value) > max_items:
            self.fail(f"no more than {max_items} items allowed", pointer)
        if len(value) < min_items:
            self.fail(f"must provide at least {min_items} items", pointer)
        return value

    # -- composition objects ------------------------------------------------------------
    def confirm(self, obj: object, pointer: str) -> None:
        if obj is None:
            return
        if not isinstance(obj, Mapping):
            self.fail("must be a confirmation dialog object", pointer)
            return
        self.text(obj.get("title"), f"{pointer}/title", CONFIRM_TITLE_MAX, plain_only=True)
        self.text(obj.get("text"), f"{pointer}/text", CONFIRM_TEXT_MAX)
        self.text(obj.get("confirm"), f"{pointer}/confirm", CONFIRM_BUTTON_MAX, plain_only=True)
        self.text(obj.get("deny"), f"{pointer}/deny", CONFIRM_BUTTON_MAX, plain_only=True)

    def option(self, obj: object, pointer: str, *, plain_only: bool) -> None:
        if not isinstance(obj, Mapping):
            self.fail("must be an option object", pointer)
            return
        self.text(obj.get("text"), f"{pointer}/text", OPTION_TEXT_MAX, plain_only=plain_only)
        self.string(obj.get("value"), f"{pointer}/value", OPTION_VALUE_MAX)
        self.text(
            obj.get("description"),
            f"{pointer}/description",
            OPTION_DESCRIPTION_MAX,
            plain_only=True,
            required=False,
        )

    def options(self, value: object, pointer: str, max_items: int, *, plain_only: bool) -> None:
        for i, option in enumerate(self.items(value, pointer, max_items)):
            self.option(option, f"{pointer}/{i}", plain_only=plain_only)

    # -- elements -----------------------------------------------------------------------
    def element(self, obj: object, pointer: str, allowed: frozenset[str]) -> str | None:
        if not isinstance(obj, Mapping):
            self.fail("must be an element object", pointer)
            return None
        kind = obj.get("type")
        if not isinstance(kind, str) or kind not in allowed:
            self.fail(f"unsupported element type {kind!r} here", f"{pointer}/type")
            return None
        action_id = obj.get("action_id")
        self.identifier(action_id, f"{pointer}/action_id")
        self.confirm(obj.get("confirm"), f"{pointer}/confirm")
        if "placeholder" in obj:
            self.text(
                obj["placeholder"], f"{pointer}/placeholder", PLACEHOLDER_MAX, plain_only=True
            )
        if kind == "button":
            self.button(obj, pointer)
        elif kind == "image":
            self.string(obj.get("image_url"), f"{pointer}/image_url", URL_MAX)
            self.string(obj.get("alt_text"), f"{pointer}/alt_text", IMAGE_ALT_TEXT_MAX)
        elif kind == "overflow":
            self.options(
                obj.get("options"), f"{pointer}/options", OVERFLOW_OPTIONS_MAX, plain_only=True
            )
        elif kind in ("checkboxes", "radio_buttons"):
            self.options(
                obj.get("options"), f"{pointer}/options", CHOICE_OPTIONS_MAX, plain_only=False
            )
        elif kind in ("static_select", "multi_static_select"):
            self.static_select(obj, pointer)
        elif kind == "plain_text_input":
            self.plain_text_input(obj, pointer)
        elif kind == "number_input" and "is_decimal_allowed" not in obj:
            self.fail("missing required field", f"{pointer}/is_decimal_allowed")
        return action_id if isinstance(action_id, str) else None

    def button(self, obj: Mapping[str, Any], pointer: str) -> None:
        self.text(obj.get("text"), f"{pointer}/text", BUTTON_TEXT_MAX, plain_only=True)
        self.string(obj.get("value"), f"{pointer}/value", BUTTON_VALUE_MAX, required=False)
        self.string(obj.get("url"), f"{pointer}/url", URL_MAX, required=False)
        style = obj.get("style")
        if style is not None and style not in ("primary", "danger"):
            self.fail("must be one of primary, danger", f"{pointer}/style")

    def static_select(self, obj: Mapping[str, Any], pointer: str) -> None:
        if "option_groups" in obj:
            groups = self.items(
                obj["option_groups"], f"{pointer}/option_groups", SELECT_OPTIONS_MAX
            )
            for i, group in enumerate(groups):
                where = f"{pointer}/option_groups/{i}"
                if not isinstance(group, Mapping):
                    self.fail("must be an option group object", where)
                    continue
                self.text(group.get("label"), f"{where}/label", OPTION_TEXT_MAX, plain_only=True)
                self.options(
                    group.get("options"), f"{where}/options", SELECT_OPTIONS_MAX, plain_only=True
                )
        else:
            self.options(
                obj.get("options"), f"{pointer}/options", SELECT_OPTIONS_MAX, plain_only=True
            )

    def plain_text_input(self, obj: Mapping[str, Any], pointer: str) -> None:
        for name in ("min_length", "max_length"):
            value = obj.get(name)
            if value is None:
                continue
            if not isinstance(value, int) or isinstance(value, bool):
                self.fail("must be an integer", f"{pointer}/{name}")
            elif not 0 <= value <= TEXT_INPUT_LENGTH_MAX:
                self.fail(f"must be between 0 and {TEXT_INPUT_LENGTH_MAX}", f"{pointer}/{name}")
        self.string(
            obj.get("initial_value"),
            f"{pointer}/initial_value",
            TEXT_INPUT_LENGTH_MAX,
            required=False,
        )

    # -- blocks -------------------------------------------------------------------------
    def blocks(self, value: object, pointer: str, surface: Surface) -> None:
        limit = MESSAGE_MAX_BLOCKS if surface == "message" else VIEW_MAX_BLOCKS
        if not isinstance(value, list):
            self.fail("must be an array", pointer)
            return
        if len(value) > limit:
            self.fail(f"no more than {limit} items allowed", pointer)
        for i, block in enumerate(value):
            self.block(block, f"{pointer}/{i}", surface)

    def block(self, obj: object, pointer: str, surface: Surface) -> None:
        if not isinstance(obj, Mapping):
            self.fail("must be a block object", pointer)
            return
        kind = obj.get("type")
        if not isinstance(kind, str) or kind not in _BLOCKS_BY_SURFACE[surface]:
            self.fail(f"unsupported block type {kind!r} on a {surface}", f"{pointer}/type")
            return
        block_id = obj.get("block_id")
        self.identifier(block_id, f"{pointer}/block_id")
        if isinstance(block_id, str):
            if block_id in self.block_ids:
                self.fail(f"duplicate block_id {block_id!r}", f"{pointer}/block_id")
            self.block_ids.add(block_id)
        checker = getattr(self, f"block_{kind}", None)
        if checker is not None:
            checker(obj, pointer)

    def block_section(self, obj: Mapping[str, Any], pointer: str) -> None:
        if obj.get("text") is None and obj.get("fields") is None:
            self.fail("must provide either text or fields", pointer)
        self.text(obj.get("text"), f"{pointer}/text", SECTION_TEXT_MAX, required=False)
        if obj.get("fields") is not None:
            fields = self.items(obj["fields"], f"{pointer}/fields", SECTION_FIELDS_MAX_ITEMS)
            for i, field in enumerate(fields):
                self.text(field, f"{pointer}/fields/{i}", SECTION_FIELD_MAX)
        if obj.get("accessory") is not None:
            self.element(obj["accessory"], f"{pointer}/accessory", _ACCESSORY_ELEMENTS)

    def block_header(self, obj: Mapping[str, Any], pointer: str) -> None:
        self.text(obj.get("text"), f"{pointer}/text", HEADER_TEXT_MAX, plain_only=True)

    def block_markdown(self, obj: Mapping[str, Any], pointer: str) -> None:
        self.string(obj.get("text"), f"{pointer}/text", MARKDOWN_BLOCK_TEXT_MAX)

    def block_image(self, obj: Mapping[str, Any], pointer: str) -> None:
        if obj.get("slack_file") is None:
            self.string(obj.get("image_url"), f"{pointer}/image_url", URL_MAX)
        self.string(obj.get("alt_text"), f"{pointer}/alt_text", IMAGE_ALT_TEXT_MAX)
        self.text(
            obj.get("title"), f"{pointer}/title", IMAGE_TITLE_MAX, plain_only=True, required=False
        )

    def block_context(self, obj: Mapping[str, Any], pointer: str) -> None:
        elements = self.items(obj.get("elements"), f"{pointer}/elements", CONTEXT_ELEMENTS_MAX)
        for i, element in enumerate(elements):
            where = f"{pointer}/elements/{i}"
            if isinstance(element, Mapping) and element.get("type") == "image":
                self.element(element, where, frozenset({"image"}))
            else:
                self.text(element, where, CONTEXT_TEXT_MAX)

    def block_actions(self, obj: Mapping[str, Any], pointer: str) -> None:
        elements = self.items(obj.get("elements"), f"{pointer}/elements", ACTIONS_ELEMENTS_MAX)
        seen: set[str] = set()
        for i, element in enumerate(elements):
            action_id = self.element(element, f"{pointer}/elements/{i}", _ACTION_ELEMENTS)
            if action_id is not None:
                if action_id in seen:
                    self.fail(
                        f"duplicate action_id {action_id!r} in one block",
                        f"{pointer}/elements/{i}/action_id",
                    )
                seen.add(action_id)

    def block_input(self, obj: Mapping[str, Any], pointer: str) -> None:
        self.text(obj.get("label"), f"{pointer}/label", INPUT_LABEL_MAX, plain_only=True)
        self.text(
            obj.get("hint"), f"{pointer}/hint", INPUT_HINT_MAX, plain_only=True, required=False
        )
        if obj.get("element") is None:
            self.fail("missing required field", f"{pointer}/element")
        else:
            self.element(obj["element"], f"{pointer}/element", _INPUT_ELEMENTS)

    def block_rich_text(self, obj: Mapping[str, Any], pointer: str) -> None:
        self.items(obj.get("elements"), f"{pointer}/elements", 10_000, min_items=0)

    def block_video(self, obj: Mapping[str, Any], pointer: str) -> None:
        self.text(obj.get("title"), f"{pointer}/title", 200, plain_only=True)
        self.string(obj.get("video_url"), f"{pointer}/video_url", URL_MAX)
        self.string(obj.get("thumbnail_url"), f"{pointer}/thumbnail_url", URL_MAX)
        self.string(obj.get("alt_text"), f"{pointer}/alt_text", IMAGE_ALT_TEXT_MAX)

    def block_file(self, obj: Mapping[str, Any], pointer: str) -> None:
        self.string(obj.get("external_id"), f"{pointer}/external_id", ID_MAX)
        if obj.get("source") != "remote":
            self.fail("must be remote", f"{pointer}/source")


def blocks_problems(blocks: object, *, surface: Surface = "message") -> list[str]:
    """Problems Slack would report for ``blocks`` on ``surface`` (empty: valid)."""
    checker = _Checker()
    checker.blocks(blocks, "/blocks", surface)
    return checker.problems


def message_text_too_long(text: object) -> bool:
    """Slack answers ``msg_too_long`` above 40,000 characters of message text."""
    return isinstance(text, str) and len(text) > MESSAGE_TEXT_MAX


def view_problems(view: object) -> list[str]:
    """Problems Slack would report for a view passed to ``views.open``/``update``/``push``."""
    checker = _Checker()
    if not isinstance(view, Mapping):
        checker.fail("must be a view object", "/view")
        return checker.problems
    if len(json.dumps(view)) > VIEW_MAX_BYTES:
        checker.fail(f"must be less than {VIEW_MAX_BYTES} bytes", "/view")
    kind = view.get("type")
    if kind not in ("modal", "home"):
        checker.fail("must be one of modal, home", "/view/type")
        return checker.problems
    surface: Surface = "modal" if kind == "modal" else "home"
    if surface == "modal":
        checker.text(view.get("title"), "/view/title", MODAL_TITLE_MAX, plain_only=True)
        for name in ("submit", "close"):
            checker.text(
                view.get(name),
                f"/view/{name}",
                MODAL_BUTTON_TEXT_MAX,
                plain_only=True,
                required=False,
            )
    checker.string(
        view.get("private_metadata"), "/view/private_metadata", PRIVATE_METADATA_MAX, required=False
    )
    checker.identifier(view.get("callback_id"), "/view/callback_id")
    checker.identifier(view.get("external_id"), "/view/external_id")
    blocks = view.get("blocks")
    if blocks is None:
        checker.fail("missing required field", "/view/blocks")
        return checker.problems
    checker.blocks(blocks, "/view/blocks", surface)
    has_input = isinstance(blocks, list) and any(
        isinstance(b, Mapping) and b.get("type") == "input" for b in blocks
    )
    if surface == "modal" and has_input and view.get("submit") is None:
        checker.fail("must provide a submit property when using input blocks", "/view/submit")
    return checker.problems
