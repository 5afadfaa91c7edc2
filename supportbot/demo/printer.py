"""The demo's live printout: what people do (narrated by the script) and what the bot does
(every Web API call the fake Slack answers, as it happens), rendered with rich."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console, Group
from rich.emoji import Emoji
from rich.padding import Padding
from rich.panel import Panel
from rich.rule import Rule
from rich.text import Text

from supportbot.demo.slack_view import Directory, mrkdwn, render_message
from supportbot.fakes.slack import SlackCall, SlackWorkspace

#: Calls that are plumbing, not conversation (identity, lookups, the upload's own steps).
QUIET_METHODS = frozenset(
    {
        "auth.test",
        "apps.connections.open",
        "chat.getPermalink",
        "conversations.info",
        "usergroups.users.list",
        "files.getUploadURLExternal",
        "upload",
        "response_url",
        "views.open",  # printed by the script, in order: see modal_opened
    }
)
_BORDER = {"review": "magenta", "digest": "green"}
_UNCHANGED = {"type": "mrkdwn", "text": "(the question, reasons, evidence and draft, as above)"}


def directory_of(workspace: SlackWorkspace) -> Directory:
    channels = {c.id: (f"#{c.name}" if c.name else f"DM with {c.user}") for c in workspace.channels}
    users = {u.id: u.real_name or u.name for u in workspace.users}
    users[workspace.bot_user_id] = workspace.bot_name
    for c in workspace.channels:
        if c.kind == "im" and c.user:
            channels[c.id] = f"DM {users.get(c.user, c.user)} ↔ {workspace.bot_name}"
    return Directory(
        users=users,
        channels=channels,
        usergroups={g.id: g.handle for g in workspace.usergroups},
    )


class ConversationPrinter:
    """Prints the conversation; subscribe :meth:`on_call` to the fake Slack."""

    def __init__(
        self,
        console: Console,
        names: Directory,
        *,
        bot_name: str,
        review_channel: str,
        digest_channel: str,
    ) -> None:
        self.console = console
        self.names = names
        self.bot_name = bot_name
        self.review_channel = review_channel
        self.digest_channel = digest_channel

    # -- narration (the script) -------------------------------------------------------------------
    def chapter(self, number: int, title: str, note: str) -> None:
        self.console.print()
        self.console.print(Rule(f"[bold]{number} · {title}[/]", align="left", style="cyan"))
        self.console.print(Text(note, style="dim"))

    def says(self, user: str, channel: str, text: str) -> None:
        who = Text(self.names.user(user), style="bold yellow")
        line = Text.assemble(who, " in ", (self.names.channel(channel), "bold"), ": ")
        line.append_text(mrkdwn(text, self.names))
        self.console.print(Padding(line, (1, 0, 0, 0)))

    def clicks(self, user: str, button: str, channel: str) -> None:
        self.console.print(
            Text.assemble(
                (self.names.user(user), "bold yellow"),
                " clicks ",
                (f" {button} ", "reverse"),
                f" in {self.names.channel(channel)}",
            )
        )

    def submits(self, user: str, title: str, text: str) -> None:
        body = Group(
            Text(f"{self.names.user(user)} writes:", style="dim"), mrkdwn(text, self.names)
        )
        self.console.print(
            Panel(body, title=f"modal “{title}” → Send", title_align="left", border_style="yellow")
        )

    def note(self, text: str) -> None:
        self.console.print(Text("  → " + text, style="italic dim"))

    # -- the bot (Web API calls, on the fake Slack's thread) ---------------------------------------
    def on_call(self, call: SlackCall) -> None:
        if call.method in QUIET_METHODS:
            return
        if not call.ok:
            self.console.print(f"[red]Slack refused {call.method}: {call.error}[/]")
            return
        handler = _HANDLERS.get(call.method)
        if handler is not None:
            handler(self, call.args, call.response)

    def _where(self, channel: str, thread_ts: Any) -> str:
        where = self.names.channel(channel)
        return f"{where}, in the thread" if thread_ts else where

    def _border(self, channel: str) -> str:
        if channel == self.review_channel:
            return _BORDER["review"]
        if channel == self.digest_channel:
            return _BORDER["digest"]
        return "blue"

    def _posted(self, args: Mapping[str, Any], response: Mapping[str, Any]) -> None:
        channel = str(response.get("channel") or args.get("channel"))
        text, blocks = str(args.get("text") or ""), args.get("blocks")
        thread = args.get("thread_ts")
        if channel == self.digest_channel and not thread:
            first = text.split("\n", 1)[0]
            self.console.print(
                Text.assemble(
                    (self.bot_name, "bold green"),
                    f" posts in {self.names.channel(channel)}: ",
                    first,
                )
            )
            return
        self.console.print(
            Panel(
                render_message(text, blocks if isinstance(blocks, list) else None, self.names),
                title=f"{self.bot_name} → {self._where(channel, thread)}",
                title_align="left",
                border_style=self._border(channel),
            )
        )

    def _updated(self, args: Mapping[str, Any], response: Mapping[str, Any]) -> None:
        """An edited message: its first and last blocks (a review message's title and its
        outcome); the blocks in between were printed when it was posted."""
        channel = str(response.get("channel") or args.get("channel"))
        blocks = args.get("blocks")
        if isinstance(blocks, list) and len(blocks) > 2:
            blocks = [blocks[0], {"type": "context", "elements": [_UNCHANGED]}, blocks[-1]]
        self.console.print(
            Panel(
                render_message(
                    str(args.get("text") or ""),
                    blocks if isinstance(blocks, list) else None,
                    self.names,
                ),
                title=f"{self.bot_name} updates its message in {self.names.channel(channel)}",
                title_align="left",
                border_style=self._border(channel),
            )
        )

    def _ephemeral(self, args: Mapping[str, Any], response: Mapping[str, Any]) -> None:
        channel, user = str(args.get("channel")), str(args.get("user"))
        blocks = args.get("blocks")
        self.console.print(
            Panel(
                render_message(
                    str(args.get("text") or ""),
                    blocks if isinstance(blocks, list) else None,
                    self.names,
                ),
                title=f"{self.bot_name} → {self.names.channel(channel)} "
                f"(only {self.names.user(user)} sees this)",
                title_align="left",
                border_style="dim",
            )
        )

    def _reacted(self, args: Mapping[str, Any], response: Mapping[str, Any]) -> None:
        emoji = Emoji.replace(f":{args.get('name')}:")
        where = self.names.channel(str(args.get("channel")))
        self.console.print(
            Text.assemble(
                (self.bot_name, "bold blue"), f" reacts {emoji} to the question in {where}"
            )
        )

    def _unreacted(self, args: Mapping[str, Any], response: Mapping[str, Any]) -> None:
        emoji = Emoji.replace(f":{args.get('name')}:")
        self.console.print(Text(f"{self.bot_name} removes its {emoji}", style="dim"))

    def modal_opened(self, call: SlackCall) -> None:
        """The bot opened a modal (``views.open``) for the reviewer who clicked."""
        view = call.args.get("view")
        if not isinstance(view, Mapping):
            return
        title = str((view.get("title") or {}).get("text") or "modal")
        prefilled = [
            str(block["element"].get("initial_value"))
            for block in view.get("blocks") or []
            if block.get("type") == "input" and block.get("element", {}).get("initial_value")
        ]
        line = Text.assemble(
            (self.bot_name, "bold blue"), f" opens the modal “{title}” for the reviewer"
        )
        if prefilled:
            line.append(", prefilled with the proposed answer", style="dim")
        self.console.print(line)

    def _uploaded(self, args: Mapping[str, Any], response: Mapping[str, Any]) -> None:
        files = response.get("files") or []
        names = ", ".join(str(f.get("name")) for f in files if isinstance(f, Mapping))
        channel = self.names.channel(str(args.get("channel_id") or args.get("channels")))
        self.console.print(
            Text.assemble(
                (self.bot_name, "bold green"),
                f" uploads {names} into the thread in {channel}",
            )
        )


_HANDLERS = {
    "chat.postMessage": ConversationPrinter._posted,
    "chat.update": ConversationPrinter._updated,
    "chat.postEphemeral": ConversationPrinter._ephemeral,
    "reactions.add": ConversationPrinter._reacted,
    "reactions.remove": ConversationPrinter._unreacted,
    "files.completeUploadExternal": ConversationPrinter._uploaded,
}
