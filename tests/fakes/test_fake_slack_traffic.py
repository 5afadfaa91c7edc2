"""Incoming traffic built as Slack sends it: signed, shaped like Slack's payloads, and
accepted by a real slack-bolt app over HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from slack_bolt import Ack, App, BoltRequest, Say
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier

from supportbot.clock import SystemClock
from supportbot.fakes.slack import FakeSlack, Incoming, SlackSender, sign_request

SECRET = "test-signing-secret"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as slack:
        yield slack


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token=fake.bot_token, base_url=fake.api_url)


def now() -> int:
    return int(SystemClock().now().timestamp())


def review_message(client: WebClient) -> str:
    """The app posts a review message with buttons; returns its ts."""
    return str(
        client.chat_postMessage(
            channel="C0REVIEW",
            text="Escalation",
            blocks=[
                {"type": "section", "text": {"type": "mrkdwn", "text": "*Refund?*"}},
                {
                    "type": "actions",
                    "block_id": "review",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": "approve",
                            "text": {"type": "plain_text", "text": "Approve"},
                            "style": "primary",
                            "value": "esc-7",
                        },
                        {
                            "type": "button",
                            "action_id": "edit",
                            "text": {"type": "plain_text", "text": "Edit & send"},
                            "value": "esc-7",
                        },
                    ],
                },
            ],
        )["ts"]
    )


EDIT_MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "edit_answer",
    "title": {"type": "plain_text", "text": "Edit the answer"},
    "submit": {"type": "plain_text", "text": "Send"},
    "private_metadata": "esc-7",
    "blocks": [
        {
            "type": "input",
            "block_id": "answer",
            "label": {"type": "plain_text", "text": "Answer"},
            "element": {"type": "plain_text_input", "action_id": "text"},
        }
    ],
}


# -- signing -----------------------------------------------------------------------------------
def test_signed_requests_verify_with_slack_sdks_verifier(fake: FakeSlack) -> None:
    verifier = SignatureVerifier(SECRET)
    requests = [
        fake.traffic.app_mention("U0ALICE", "C0SUPPORT", "hello"),
        fake.traffic.slash_command("U0ALICE", "C0SUPPORT", "status"),
        fake.traffic.url_verification(),
    ]
    for incoming in requests:
        body, headers = sign_request(incoming, SECRET, timestamp=now())
        assert verifier.is_valid_request(body, headers), incoming.kind
        assert not verifier.is_valid_request(body + b" ", headers)
        assert not SignatureVerifier("other-secret").is_valid_request(body, headers)
    stale = sign_request(requests[0], SECRET, timestamp=now() - 600)
    assert not verifier.is_valid_request(stale.body, stale.headers)


def test_bodies_are_json_events_and_form_interactions(fake: FakeSlack, client: WebClient) -> None:
    event = fake.traffic.app_mention("U0ALICE", "C0SUPPORT")
    assert event.content_type == "application/json"
    assert json.loads(event.body())["type"] == "event_callback"

    click = fake.traffic.block_action("U0BOB", "C0REVIEW", review_message(client), "approve")
    form = parse_qs(click.body().decode())
    assert list(form) == ["payload"]
    assert json.loads(form["payload"][0])["type"] == "block_actions"

    command = fake.traffic.slash_command("U0ALICE", "C0SUPPORT", "reindex")
    fields = {k: v[0] for k, v in parse_qs(command.body().decode()).items()}
    assert (fields["command"], fields["text"], fields["user_id"]) == (
        "/supportbot",
        "reindex",
        "U0ALICE",
    )
    assert fields["response_url"].startswith(fake.url)


def test_retries_carry_slacks_headers_and_the_same_event(fake: FakeSlack) -> None:
    first = fake.traffic.app_mention("U0ALICE", "C0SUPPORT", "twice?")
    retry = first.retried(2, "http_timeout")
    body, headers = sign_request(retry, SECRET, timestamp=now())
    assert body == first.body()
    assert (headers["X-Slack-Retry-Num"], headers["X-Slack-Retry-Reason"]) == ("2", "http_timeout")
    assert "X-Slack-Retry-Num" not in sign_request(first, SECRET, timestamp=now()).headers
    assert retry.envelope("e1")["retry_attempt"] == 2


# -- event shapes ------------------------------------------------------------------------------
def test_a_mention_is_stored_and_delivered_twice(fake: FakeSlack) -> None:
    as_message, as_mention = fake.traffic.mention_both(
        "U0ALICE", "C0SUPPORT", "how do refunds work?"
    )
    message, mention = as_message.event, as_mention.event
    assert mention["type"] == "app_mention"
    assert message["type"] == "message"
    assert message["channel_type"] == "channel"
    assert mention["text"] == "<@U0BOT> how do refunds work?"
    assert mention["ts"] == message["ts"]
    assert as_message.payload["event_id"] != as_mention.payload["event_id"]
    assert as_mention.payload["authorizations"][0]["user_id"] == "U0BOT"
    elements = mention["blocks"][0]["elements"][0]["elements"]
    assert elements[0] == {"type": "user", "user_id": "U0BOT"}
    stored = fake.message("C0SUPPORT", mention["ts"])
    assert stored is not None
    assert stored.user == "U0ALICE"


def test_dm_thread_reply_bot_message_edit_and_reaction(fake: FakeSlack, client: WebClient) -> None:
    dm = fake.traffic.message("U0ALICE", "D0ALICE", "hi bot").event
    assert (dm["channel_type"], dm["channel"]) == ("im", "D0ALICE")

    answer = client.chat_postMessage(channel="D0ALICE", thread_ts=dm["ts"], text="hello")["ts"]
    follow_up = fake.traffic.message("U0ALICE", "D0ALICE", "thanks", thread_ts=answer).event
    assert (follow_up["thread_ts"], follow_up["parent_user_id"]) == (dm["ts"], "U0ALICE")

    own = fake.message("D0ALICE", answer)
    assert own is not None
    echo = fake.traffic.message_event(own).event
    assert (echo["user"], echo["bot_id"], echo["app_id"]) == ("U0BOT", "B0BOT", "A0SUPPORT")

    other = fake.traffic.bot_message("C0SUPPORT", "deploy finished").event
    assert (other["subtype"], other["bot_id"]) == ("bot_message", "B0OTHERBOT")

    edited = fake.traffic.message_changed("D0ALICE", dm["ts"], "hi bot, again").event
    assert edited["subtype"] == "message_changed"
    assert (edited["message"]["text"], edited["previous_message"]["text"]) == (
        "hi bot, again",
        "hi bot",
    )
    assert edited["message"]["ts"] == dm["ts"]

    reaction = fake.traffic.reaction_added("U0ALICE", "D0ALICE", answer, "+1").event
    assert reaction["item"] == {"type": "message", "channel": "D0ALICE", "ts": answer}
    assert reaction["item_user"] == "U0BOT"
    assert fake.message_json("D0ALICE", answer)["reactions"][0]["users"] == ["U0ALICE"]


def test_a_click_is_built_from_the_posted_button(fake: FakeSlack, client: WebClient) -> None:
    ts = review_message(client)
    payload = fake.traffic.block_action("U0BOB", "C0REVIEW", ts, "approve").payload
    assert payload["type"] == "block_actions"
    assert payload["user"]["id"] == "U0BOB"
    assert payload["container"] == {
        "type": "message",
        "message_ts": ts,
        "channel_id": "C0REVIEW",
        "is_ephemeral": False,
    }
    assert payload["message"]["ts"] == ts
    action = payload["actions"][0]
    assert (action["action_id"], action["block_id"], action["value"]) == (
        "approve",
        "review",
        "esc-7",
    )
    assert action["text"]["text"] == "Approve"
    with pytest.raises(LookupError, match="review/approve, review/edit"):
        fake.traffic.block_action("U0BOB", "C0REVIEW", ts, "reject")


def test_trigger_ids_from_clicks_open_one_modal(fake: FakeSlack, client: WebClient) -> None:
    click = fake.traffic.block_action("U0BOB", "C0REVIEW", review_message(client), "edit")
    trigger_id = click.payload["trigger_id"]
    view = client.views_open(trigger_id=trigger_id, view=EDIT_MODAL)["view"]
    with pytest.raises(SlackApiError) as excinfo:
        client.views_open(trigger_id=trigger_id, view=EDIT_MODAL)
    assert excinfo.value.response["error"] == "exchanged_trigger_id"

    submission = fake.traffic.view_submission("U0BOB", view["id"], {"text": "Edited answer"})
    submitted = submission.payload["view"]
    assert submission.payload["type"] == "view_submission"
    assert submitted["private_metadata"] == "esc-7"
    assert submitted["callback_id"] == "edit_answer"
    assert submitted["state"]["values"] == {
        "answer": {"text": {"type": "plain_text_input", "value": "Edited answer"}}
    }
    with pytest.raises(LookupError, match="opened for U0BOB"):
        fake.traffic.view_submission("U0DAVE", view["id"], {"text": "x"})
    with pytest.raises(LookupError, match="no input"):
        fake.traffic.view_submission("U0BOB", view["id"], {"nope": "x"})


def test_slash_command_trigger_opens_a_modal(fake: FakeSlack, client: WebClient) -> None:
    command = fake.traffic.slash_command("U0BOB", "C0SUPPORT", "")
    assert client.views_open(trigger_id=command.payload["trigger_id"], view=EDIT_MODAL)["ok"]


# -- a real bolt app over HTTP -----------------------------------------------------------------
class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


class Seen:
    """What the test app's listeners saw (they run on bolt's worker threads)."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.retries: list[str | None] = []
        self.changed = threading.Condition()

    def add(self, where: list[Any], item: Any) -> None:
        with self.changed:
            where.append(item)
            self.changed.notify_all()

    def wait_for_message(self, text: str) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: text in self.messages, timeout=10)


@pytest.fixture
def bolt_endpoint(fake: FakeSlack) -> Iterator[tuple[str, Seen]]:
    """A minimal bolt app (not the product's) behind a WSGI server; yields its URL and what
    its listeners saw."""
    seen = Seen()
    app = App(
        signing_secret=SECRET,
        client=WebClient(token=fake.bot_token, base_url=fake.api_url),
    )

    @app.event("app_mention")
    def on_mention(event: dict[str, Any], say: Say, request: BoltRequest) -> None:
        seen.add(seen.retries, request.headers.get("x-slack-retry-num", [None])[0])
        say(text="On it", thread_ts=event["ts"])

    @app.event("message")
    def on_message(event: dict[str, Any]) -> None:
        seen.add(seen.messages, event["text"])

    @app.action("edit")
    def on_edit(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=EDIT_MODAL)

    @app.view("edit_answer")
    def on_submit(ack: Ack, view: dict[str, Any]) -> None:
        if not view["state"]["values"]["answer"]["text"]["value"]:
            ack(response_action="errors", errors={"answer": "Write an answer first"})
        else:
            ack()

    @app.command("/supportbot")
    def on_command(ack: Ack, command: dict[str, Any]) -> None:
        ack(text=f"you said {command['text']}")

    server: WSGIServer = make_server(
        "127.0.0.1", 0, SlackRequestHandler(app), handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/slack/events", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_bolt_accepts_the_signed_traffic(
    fake: FakeSlack, client: WebClient, bolt_endpoint: tuple[str, Seen]
) -> None:
    url, seen = bolt_endpoint
    sender = SlackSender(url, SECRET)

    mention = fake.traffic.app_mention("U0ALICE", "C0SUPPORT", "help")
    assert sender.send(mention).status == 200
    reply = fake.wait_for_message(
        "C0SUPPORT", mention.event["ts"], lambda m: m.user == "U0BOT", timeout=10
    )
    assert reply.text == "On it"
    assert sender.send(mention.retried(1, "http_timeout")).status == 200
    fake.wait_for_call("chat.postMessage", count=2, timeout=10)
    assert seen.retries == [None, "1"]

    forged = SlackSender(url, "wrong-secret").send(fake.traffic.app_mention("U0ALICE", "C0SUPPORT"))
    assert forged.status == 401

    challenge = fake.traffic.url_verification("abc123")
    assert sender.send(challenge).json() == {"challenge": "abc123"}

    click = fake.traffic.block_action("U0BOB", "C0REVIEW", review_message(client), "edit")
    assert sender.send(click).status == 200
    opened = fake.wait_for_call("views.open", timeout=10)
    assert opened.ok, opened.response
    view_id = opened.response["view"]["id"]

    empty = sender.send(fake.traffic.view_submission("U0BOB", view_id, {"text": ""}))
    assert empty.json() == {
        "response_action": "errors",
        "errors": {"answer": "Write an answer first"},
    }
    done = sender.send(fake.traffic.view_submission("U0BOB", view_id, {"text": "Use the form"}))
    assert (done.status, done.body) == (200, b"")

    answered = sender.send(fake.traffic.slash_command("U0ALICE", "C0SUPPORT", "status"))
    assert (answered.status, answered.text) == (200, "you said status")
    fake.assert_no_rejections()


def test_bolt_ignores_the_bots_own_message_events(
    fake: FakeSlack, client: WebClient, bolt_endpoint: tuple[str, Seen]
) -> None:
    url, seen = bolt_endpoint
    sender = SlackSender(url, SECRET)
    own_ts = client.chat_postMessage(channel="C0SUPPORT", text="from the bot")["ts"]
    own = fake.message("C0SUPPORT", own_ts)
    assert own is not None
    assert sender.send(fake.traffic.message_event(own)).status == 200
    assert sender.send(fake.traffic.message("U0ALICE", "C0SUPPORT", "from alice")).status == 200
    # bolt drops self events in its middleware, before acking; alice's runs after the ack
    seen.wait_for_message("from alice")
    assert seen.messages == ["from alice"]


def test_incoming_over_socket_mode_needs_a_non_url_verification_kind(fake: FakeSlack) -> None:
    with pytest.raises(ValueError, match="HTTP only"):
        fake.traffic.url_verification().envelope("e1")
    envelope = Incoming("slash_commands", {"command": "/supportbot"}).envelope("e2")
    assert envelope == {
        "envelope_id": "e2",
        "type": "slash_commands",
        "payload": {"command": "/supportbot"},
        "accepts_response_payload": True,
    }
