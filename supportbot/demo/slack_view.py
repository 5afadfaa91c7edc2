"""Slack messages for the terminal: Block Kit and mrkdwn as rich renderables.

Pure functions of a message and a :class:`Directory` (who and what the IDs are), so the
demo's printout reads like the Slack client: names instead of IDs, bold and italics, quotes,
buttons as ``[ Approve ]``, context lines dimmed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Group, RenderableType
from rich.emoji import Emoji
from rich.rule import Rule
from rich.text import Text

Block = Mapping[str, Any]

_REFERENCE = re.compile(r"<([^<>]+)>")
# *bold*, _italic_, ~strike~ only at word edges (snake_case stays as it is), `code` anywhere
_INLINE = re.compile(r"((?<!\w)([*_~])(?=\S)[^\n]*?(?<=\S)\2(?!\w)|`[^`\n]+`)")
_INLINE_STYLE = {"*": "bold", "_": "italic", "`": "cyan", "~": "strike"}
_BUTTON_STYLE = {"primary": "bold white on green", "danger": "bold white on red"}


@dataclass(frozen=True)
class Directory:
    """Display names of a workspace's users, channels and user groups, by ID."""

    users: Mapping[str, str]
    channels: Mapping[str, str]
    usergroups: Mapping[str, str]

    def user(self, user_id: str) -> str:
        return self.users.get(user_id, user_id)

    def channel(self, channel_id: str) -> str:
        return self.channels.get(channel_id, channel_id)


def _reference(body: str, names: Directory) -> str:
    """One ``<...>`` of mrkdwn as the Slack client shows it."""
    target, _, label = body.partition("|")
    if target.startswith("@"):
        return "@" + names.user(target[1:])
    if target.startswith("#"):
        return f"#{label}" if label else names.channel(target[1:])
    if target.startswith("!subteam^"):
        group = target.removeprefix("!subteam^")
        return "@" + names.usergroups.get(group, group)
    if target.startswith("!date^"):
        return label or target
    if target.startswith("!"):
        return "@" + target[1:]
    return label or target


def mrkdwn(text: str, names: Directory, *, style: str = "") -> Text:
    """Slack mrkdwn (``*bold*``, ``_italic_``, `` `code` ``, ``> quotes``, references,
    ``:emoji:``) as rich Text."""
    resolved = _REFERENCE.sub(lambda m: _reference(m.group(1), names), text)
    resolved = resolved.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    resolved = Emoji.replace(resolved)
    out = Text(style=style)
    for number, raw in enumerate(resolved.split("\n")):
        if number:
            out.append("\n")
        quoted = raw.startswith(">")
        line = raw.lstrip(">").lstrip() if quoted else raw
        if quoted:
            out.append("▌ ", style="dim")
        position = 0
        for match in _INLINE.finditer(line):
            out.append(line[position : match.start()], style="italic" if quoted else "")
            piece = match.group(1)
            out.append(piece[1:-1], style=_INLINE_STYLE[piece[0]])
            position = match.end()
        out.append(line[position:], style="italic" if quoted else "")
    return out


def _text_of(node: Any, names: Directory, *, style: str = "") -> Text:
    if not isinstance(node, Mapping):
        return Text()
    value = str(node.get("text") or "")
    if node.get("type") == "mrkdwn":
        return mrkdwn(value, names, style=style)
    return Text(Emoji.replace(value), style=style)


def _button(element: Block) -> Text:
    label = Emoji.replace(str((element.get("text") or {}).get("text") or "button"))
    return Text(f" {label} ", style=_BUTTON_STYLE.get(str(element.get("style")), "reverse"))


def _header(block: Block, names: Directory) -> RenderableType | None:
    return _text_of(block.get("text"), names, style="bold")


def _section(block: Block, names: Directory) -> RenderableType | None:
    parts: list[RenderableType] = []
    if block.get("text"):
        parts.append(_text_of(block.get("text"), names))
    fields = [_text_of(f, names) for f in block.get("fields") or []]
    if fields:
        parts.append(Text("  ·  ").join(Text(": ").join(f.split()) for f in fields))
    accessory = block.get("accessory")
    if isinstance(accessory, Mapping) and accessory.get("type") == "button":
        parts.append(_button(accessory))
    return Group(*parts) if parts else None


def _context(block: Block, names: Directory) -> RenderableType | None:
    texts = [_text_of(e, names, style="dim") for e in block.get("elements") or []]
    return Text("  ").join(texts) if texts else None


def _actions(block: Block, names: Directory) -> RenderableType | None:
    buttons = [_button(e) for e in block.get("elements") or [] if e.get("type") == "button"]
    return Text(" ").join(buttons) if buttons else None


def _divider(block: Block, names: Directory) -> RenderableType | None:
    return Rule(style="dim")


def _image(block: Block, names: Directory) -> RenderableType | None:
    return Text(f"[image: {block.get('alt_text', '')}]", style="dim")


_RENDERERS: dict[str, Callable[[Block, Directory], RenderableType | None]] = {
    "header": _header,
    "section": _section,
    "context": _context,
    "actions": _actions,
    "divider": _divider,
    "image": _image,
}


def render_block(block: Block, names: Directory) -> RenderableType | None:
    """One block; None for what the client would not show as such (``rich_text``, the
    typed message, is shown through the message's text)."""
    renderer = _RENDERERS.get(str(block.get("type")))
    return renderer(block, names) if renderer is not None else None


def render_message(text: str, blocks: Sequence[Block] | None, names: Directory) -> RenderableType:
    """A message as Slack shows it: its blocks, or its text when it has none."""
    rendered = [r for r in (render_block(b, names) for b in blocks or []) if r is not None]
    return Group(*rendered) if rendered else mrkdwn(text, names)
