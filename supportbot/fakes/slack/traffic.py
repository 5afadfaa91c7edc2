"""Incoming Slack traffic, built exactly as Slack sends it to an app.

:class:`SlackTraffic` (``fake.traffic``) builds :class:`Incoming` requests bound to the fake's
world: a user's message is stored in the fake before its event is built (so the app can react
to it, thread under it, link to it), a button click is built from the button the app really
posted, a ``trigger_id`` is minted by the fake (the Web API accepts it once) and a
``response_url`` points back at the fake (posts to it are recorded).

An :class:`~supportbot.fakes.slack.incoming.Incoming` goes over HTTP, signed
(:class:`~supportbot.fakes.slack.incoming.SlackSender`), or over Socket Mode
(``fake.socket.push(incoming)``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .incoming import Incoming
from .state import EphemeralMessage, JsonDict, Message, OpenedView, SlackState, new_id

if TYPE_CHECKING:
    from .workspace import SlackWorkspace

_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")


def _rich_text(text: str) -> list[JsonDict]:
    """The rich_text block Slack attaches to a typed message (mentions as user elements)."""
    elements: list[JsonDict] = []
    position = 0
    for match in _MENTION.finditer(text):
        if match.start() > position:
            elements.append({"type": "text", "text": text[position : match.start()]})
        elements.append({"type": "user", "user_id": match.group(1)})
        position = match.end()
    if position < len(text):
        elements.append({"type": "text", "text": text[position:]})
    return [
        {
            "type": "rich_text",
            "block_id": new_id("", 5).lower(),
            "elements": [{"type": "rich_text_section", "elements": elements}],
        }
    ]


def _find_element(
    blocks: list[JsonDict], action_id: str, block_id: str | None
) -> tuple[str, JsonDict]:
    available: list[str] = []
    for index, block in enumerate(blocks):
        this_block_id = str(block.get("block_id") or f"auto{index}")
        candidates: list[Any] = []
        if block.get("type") == "actions":
            candidates = list(block.get("elements") or [])
        elif block.get("type") == "section" and block.get("accessory"):
            candidates = [block["accessory"]]
        elif block.get("type") == "input" and block.get("element"):
            candidates = [block["element"]]
        for element in candidates:
            if not isinstance(element, dict) or "action_id" not in element:
                continue
            available.append(f"{this_block_id}/{element['action_id']}")
            if element["action_id"] == action_id and block_id in (None, this_block_id):
                return this_block_id, element
    raise LookupError(
        f"no element with action_id {action_id!r}"
        + (f" in block {block_id!r}" if block_id else "")
        + f"; the message has: {', '.join(available) or 'no interactive elements'}"
    )


class SlackTraffic:
    """Builds what Slack sends to the app, bound to one fake Slack's state."""

    def __init__(self, state: SlackState, base_url: str) -> None:
        self._state = state
        self._base_url = base_url

    @property
    def _ws(self) -> SlackWorkspace:
        return self._state.workspace

    # -- envelopes -----------------------------------------------------------------------------
    def _event_callback(self, event: JsonDict) -> Incoming:
        ws = self._ws
        payload = {
            "token": ws.verification_token,
            "team_id": ws.team_id,
            "context_team_id": ws.team_id,
            "context_enterprise_id": None,
            "api_app_id": ws.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": new_id("Ev", 11),
            "event_time": int(self._state.now().timestamp()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": ws.team_id,
                    "user_id": ws.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": "4-" + new_id("", 40).lower(),
        }
        return Incoming("events_api", payload)

    def _user(self, user_id: str) -> JsonDict:
        user = self._state.users.get(user_id)
        if user is None:
            raise LookupError(f"no user {user_id!r} in the fake workspace")
        return {
            "id": user.id,
            "username": user.name,
            "name": user.name,
            "team_id": self._ws.team_id,
        }

    def _channel_type(self, channel: str) -> str:
        conversation = self._state.conversations[channel]
        return {"public": "channel", "private": "group"}.get(
            conversation.seed.kind, conversation.seed.kind
        )

    def _channel_ref(self, channel: str) -> JsonDict:
        conversation = self._state.conversations[channel]
        name = conversation.seed.name or ("directmessage" if conversation.seed.kind == "im" else "")
        return {"id": channel, "name": name}

    # -- a user writes -------------------------------------------------------------------------
    def post(self, user: str, channel: str, text: str, *, thread_ts: str | None = None) -> Message:
        """Store a message ``user`` typed (no event is built; see :meth:`message`)."""
        state = self._state
        with state.lock:
            if user not in state.users:
                raise LookupError(f"no user {user!r} in the fake workspace")
            conversation = state.resolve_channel(channel, open_dm=False)
            if conversation is None:
                raise LookupError(f"no channel {channel!r} in the fake workspace")
            if thread_ts is not None:
                root = state.thread_root(conversation.seed.id, thread_ts)
                if root is None:
                    raise LookupError(f"no message {thread_ts} in {channel} to reply to")
                thread_ts = root.ts
            message = Message(
                channel=conversation.seed.id,
                ts=state.next_ts(),
                text=text,
                user=user,
                blocks=_rich_text(text),
                thread_ts=thread_ts,
                client_msg_id=str(uuid.uuid4()),
            )
            return state.add_message(message)

    def message_event(self, message: Message) -> Incoming:
        """The ``message`` event Slack delivers for a stored message (users' or bots')."""
        with self._state.lock:
            event = self._state.message_json(message)
            event.pop("reply_count", None)
            event.pop("reply_users_count", None)
            event.pop("reply_users", None)
            event.pop("latest_reply", None)
            event.pop("is_locked", None)
            event.pop("subscribed", None)
            if not message.is_reply:
                event.pop("thread_ts", None)
            event.update(
                channel=message.channel,
                event_ts=message.ts,
                channel_type=self._channel_type(message.channel),
            )
            return self._event_callback(event)

    def message(
        self, user: str, channel: str, text: str, *, thread_ts: str | None = None
    ) -> Incoming:
        """``user`` writes ``text`` in ``channel`` (DM, thread reply...): a ``message`` event."""
        return self.message_event(self.post(user, channel, text, thread_ts=thread_ts))

    def app_mention_event(self, message: Message) -> Incoming:
        with self._state.lock:
            event: JsonDict = {
                "type": "app_mention",
                "user": message.user,
                "text": message.text,
                "ts": message.ts,
                "client_msg_id": message.client_msg_id,
                "team": self._ws.team_id,
                "blocks": message.blocks,
                "channel": message.channel,
                "event_ts": message.ts,
            }
            if message.is_reply:
                event["thread_ts"] = message.thread_ts
                parent = self._state.find_message(message.channel, message.thread_ts or "")
                if parent is not None and parent.user:
                    event["parent_user_id"] = parent.user
            return self._event_callback(event)

    def app_mention(
        self,
        user: str,
        channel: str,
        text: str | None = None,
        *,
        thread_ts: str | None = None,
    ) -> Incoming:
        """``user`` @mentions the bot: the ``app_mention`` event (the text gets the mention)."""
        return self.app_mention_event(
            self.post(user, channel, self._with_mention(text), thread_ts=thread_ts)
        )

    def mention_both(
        self, user: str, channel: str, text: str | None = None, *, thread_ts: str | None = None
    ) -> tuple[Incoming, Incoming]:
        """One @mention, delivered twice as Slack does: (``message``, ``app_mention``)."""
        message = self.post(user, channel, self._with_mention(text), thread_ts=thread_ts)
        return self.message_event(message), self.app_mention_event(message)

    def _with_mention(self, text: str | None) -> str:
        mention = f"<@{self._ws.bot_user_id}>"
        if text is None:
            return mention
        return text if mention in text else f"{mention} {text}"

    def bot_message(
        self,
        channel: str,
        text: str,
        *,
        bot_id: str = "B0OTHERBOT",
        username: str = "otherbot",
        thread_ts: str | None = None,
    ) -> Incoming:
        """Another integration posts (``subtype: bot_message``); stored, and its event."""
        state = self._state
        with state.lock:
            conversation = state.resolve_channel(channel, open_dm=False)
            if conversation is None:
                raise LookupError(f"no channel {channel!r} in the fake workspace")
            message = state.add_message(
                Message(
                    channel=conversation.seed.id,
                    ts=state.next_ts(),
                    text=text,
                    subtype="bot_message",
                    bot_id=bot_id,
                    username=username,
                    thread_ts=thread_ts,
                )
            )
            return self.message_event(message)

    def message_changed(self, channel: str, ts: str, new_text: str) -> Incoming:
        """The author edits a stored message: ``message`` with ``subtype: message_changed``."""
        state = self._state
        with state.lock:
            message = state.find_message(channel, ts)
            if message is None:
                raise LookupError(f"no message {ts} in {channel}")
            previous = state.message_json(message)
            edit_ts = state.next_ts()
            message.text = new_text
            message.blocks = _rich_text(new_text) if message.client_msg_id else message.blocks
            message.edited = {"user": message.user or "", "ts": edit_ts}
            event = {
                "type": "message",
                "subtype": "message_changed",
                "hidden": True,
                "message": state.message_json(message),
                "previous_message": previous,
                "channel": channel,
                "ts": edit_ts,
                "event_ts": edit_ts,
                "channel_type": self._channel_type(channel),
            }
            return self._event_callback(event)

    def reaction_added(self, user: str, channel: str, ts: str, reaction: str) -> Incoming:
        """``user`` adds ``:reaction:`` to a stored message (recorded in the fake too)."""
        state = self._state
        with state.lock:
            message = state.find_message(channel, ts)
            if message is None:
                raise LookupError(f"no message {ts} in {channel}")
            users = message.reactions.setdefault(reaction, [])
            if user not in users:
                users.append(user)
            event: JsonDict = {
                "type": "reaction_added",
                "user": user,
                "reaction": reaction,
                "item": {"type": "message", "channel": channel, "ts": ts},
                "event_ts": state.next_ts(),
            }
            if message.user:
                event["item_user"] = message.user
            return self._event_callback(event)

    def url_verification(self, challenge: str | None = None) -> Incoming:
        return Incoming(
            "url_verification",
            {
                "token": self._ws.verification_token,
                "challenge": challenge or new_id("", 40).lower(),
                "type": "url_verification",
            },
        )

    # -- interactions --------------------------------------------------------------------------
    def _interaction_base(self, kind: str, user: str, trigger_id: str) -> JsonDict:
        ws = self._ws
        return {
            "type": kind,
            "user": self._user(user),
            "api_app_id": ws.app_id,
            "token": ws.verification_token,
            "trigger_id": trigger_id,
            "team": {"id": ws.team_id, "domain": ws.domain},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def block_action(
        self,
        user: str,
        channel: str,
        message_ts: str,
        action_id: str,
        *,
        block_id: str | None = None,
        selected_value: str | None = None,
    ) -> Incoming:
        """``user`` clicks the element ``action_id`` on a message the app posted (or an
        ephemeral one): a ``block_actions`` payload with a fresh trigger_id and response_url.

        The element is looked up in the stored message, so a button the app never posted
        cannot be clicked (``LookupError``). ``selected_value`` picks an option of a select,
        overflow or radio element.
        """
        state = self._state
        with state.lock:
            stored: Message | EphemeralMessage | None = state.find_message(channel, message_ts)
            if stored is None:
                stored = next(
                    (
                        e
                        for e in state.ephemerals
                        if e.channel == channel and e.ts == message_ts and e.user == user
                    ),
                    None,
                )
            if stored is None:
                raise LookupError(f"no message {message_ts} in {channel} visible to {user}")
            found_block_id, element = _find_element(stored.blocks, action_id, block_id)
            is_ephemeral = isinstance(stored, EphemeralMessage)
            trigger_id = state.mint_trigger(user, "block_actions")
            hook_id = state.mint_response_hook(
                channel, user, message_ts=message_ts, is_ephemeral=is_ephemeral
            )
            payload = self._interaction_base("block_actions", user, trigger_id)
            container: JsonDict = {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel,
                "is_ephemeral": is_ephemeral,
            }
            if stored.thread_ts is not None:
                container["thread_ts"] = stored.thread_ts
            payload["container"] = container
            payload["channel"] = self._channel_ref(channel)
            if isinstance(stored, Message):
                payload["message"] = state.message_json(stored)
            payload["state"] = {"values": {}}
            payload["response_url"] = f"{self._base_url}/response_url/{hook_id}"
            payload["actions"] = [
                self._action(found_block_id, element, selected_value, state.next_ts())
            ]
            return Incoming("interactive", payload)

    @staticmethod
    def _action(block_id: str, element: JsonDict, selected: str | None, action_ts: str) -> JsonDict:
        kind = element.get("type")
        action: JsonDict = {
            "type": kind,
            "action_id": element["action_id"],
            "block_id": block_id,
            "action_ts": action_ts,
        }
        if kind == "button":
            action["text"] = element.get("text")
            if "value" in element:
                action["value"] = element["value"]
            if "style" in element:
                action["style"] = element["style"]
            return action
        options = list(element.get("options") or [])
        for group in element.get("option_groups") or []:
            options.extend(group.get("options") or [])
        if options:
            chosen = next((o for o in options if o.get("value") == selected), None)
            if chosen is None:
                values = ", ".join(str(o.get("value")) for o in options)
                raise LookupError(f"no option {selected!r} in {element['action_id']}; has {values}")
            action["selected_option"] = chosen
        elif selected is not None:
            action["value"] = selected
        return action

    def view_submission(self, user: str, view_id: str, values: Mapping[str, Any]) -> Incoming:
        """``user`` submits the open modal ``view_id``. ``values`` maps an input's action_id to
        what was entered (text, or an option's value for selects); inputs not given are empty.
        """
        state = self._state
        with state.lock:
            opened = state.views.get(view_id)
            if opened is None or opened.closed:
                raise LookupError(f"no open view {view_id}")
            if opened.user != user:
                raise LookupError(f"view {view_id} was opened for {opened.user}, not {user}")
            view = state.view_json(opened)
            view["state"] = {"values": self._state_values(opened, values)}
            trigger_id = state.mint_trigger(user, "view_submission", view_id=view_id)
            payload = self._interaction_base("view_submission", user, trigger_id)
            payload["view"] = view
            payload["response_urls"] = []
            return Incoming("interactive", payload)

    @staticmethod
    def _state_values(opened: OpenedView, values: Mapping[str, Any]) -> JsonDict:
        result: JsonDict = {}
        unknown = set(values)
        for index, block in enumerate(opened.view.get("blocks") or []):
            if block.get("type") != "input":
                continue
            element = block.get("element") or {}
            action_id = element.get("action_id", f"auto{index}")
            block_id = block.get("block_id", f"auto{index}")
            kind = element.get("type")
            given = values.get(action_id)
            unknown.discard(action_id)
            entry: JsonDict = {"type": kind}
            if kind in ("static_select", "radio_buttons"):
                options = list(element.get("options") or [])
                entry["selected_option"] = next(
                    (o for o in options if o.get("value") == given), None
                )
            else:
                entry["value"] = given
            result.setdefault(block_id, {})[action_id] = entry
        if unknown:
            raise LookupError(f"view {opened.id} has no input with action_id {sorted(unknown)}")
        return result

    def slash_command(
        self, user: str, channel: str, text: str = "", *, command: str = "/supportbot"
    ) -> Incoming:
        """``user`` types ``/command text`` in ``channel``: the slash command form."""
        state = self._state
        with state.lock:
            conversation = state.resolve_channel(channel, open_dm=False)
            if conversation is None:
                raise LookupError(f"no channel {channel!r} in the fake workspace")
            channel_id = conversation.seed.id
            trigger_id = state.mint_trigger(user, "slash_command")
            hook_id = state.mint_response_hook(channel_id, user)
            ws = self._ws
            payload = {
                "token": ws.verification_token,
                "team_id": ws.team_id,
                "team_domain": ws.domain,
                "channel_id": channel_id,
                "channel_name": self._channel_ref(channel_id)["name"],
                "user_id": user,
                "user_name": self._user(user)["name"],
                "command": command,
                "text": text,
                "api_app_id": ws.app_id,
                "is_enterprise_install": "false",
                "response_url": f"{self._base_url}/response_url/{hook_id}",
                "trigger_id": trigger_id,
            }
            return Incoming("slash_commands", payload)
