"""The fake Slack Web API, driven through the official slack_sdk WebClient."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from supportbot.clock import FakeClock
from supportbot.fakes.slack import (
    RESPONSE_URL,
    UPLOAD,
    ChannelRateLimit,
    FakeSlack,
    SlackChannel,
    SlackWorkspace,
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(clock: FakeClock) -> Iterator[FakeSlack]:
    with FakeSlack(clock=clock) as slack:
        yield slack


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token=fake.bot_token, base_url=fake.api_url)


def slack_error(excinfo: pytest.ExceptionInfo[SlackApiError]) -> str:
    return str(excinfo.value.response["error"])


# -- auth --------------------------------------------------------------------------------------
def test_auth_test_names_the_bot(client: WebClient, fake: FakeSlack) -> None:
    answer = client.auth_test()
    assert (answer["user_id"], answer["bot_id"], answer["team_id"]) == ("U0BOT", "B0BOT", "T0ACME")
    assert fake.calls("auth.test")[0].token == fake.bot_token


def test_tokens_are_checked(fake: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as unknown:
        WebClient(token="xoxb-wrong", base_url=fake.api_url).auth_test()
    assert slack_error(unknown) == "invalid_auth"
    with pytest.raises(SlackApiError) as missing:
        WebClient(base_url=fake.api_url).auth_test()
    assert slack_error(missing) == "not_authed"
    with pytest.raises(SlackApiError) as app_token_for_chat:
        WebClient(token=fake.app_token, base_url=fake.api_url).chat_postMessage(
            channel="C0SUPPORT", text="hi"
        )
    assert slack_error(app_token_for_chat) == "not_allowed_token_type"
    with pytest.raises(SlackApiError) as bot_token_for_socket:
        WebClient(token=fake.bot_token, base_url=fake.api_url).apps_connections_open(
            app_token=fake.bot_token
        )
    assert slack_error(bot_token_for_socket) == "not_allowed_token_type"
    assert fake.messages_in("C0SUPPORT") == []


def test_unknown_method(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.api_call("chat.teleport", json={"channel": "C0SUPPORT"})
    assert slack_error(excinfo) == "unknown_method"


# -- messages and threads ----------------------------------------------------------------------
def test_ts_strictly_increases_even_when_the_clock_stands_still(
    client: WebClient, fake: FakeSlack
) -> None:
    stamps = [client.chat_postMessage(channel="C0SUPPORT", text=f"m{i}")["ts"] for i in range(20)]
    keys = [tuple(int(part) for part in ts.split(".")) for ts in stamps]
    assert keys == sorted(keys)
    assert len(set(stamps)) == 20
    assert [m.text for m in fake.messages_in("C0SUPPORT")] == [f"m{i}" for i in range(20)]


def test_threads_replies_and_history(client: WebClient, fake: FakeSlack) -> None:
    question = fake.post_as_user("U0ALICE", "C0SUPPORT", "How do I reset my password?")
    first = client.chat_postMessage(channel="C0SUPPORT", thread_ts=question.ts, text="Looking…")
    reply_to_reply = client.chat_postMessage(
        channel="C0SUPPORT", thread_ts=first["ts"], text="Here is how."
    )
    client.chat_postMessage(channel="C0SUPPORT", text="unrelated")

    assert reply_to_reply["message"]["thread_ts"] == question.ts  # a reply's ts means its thread
    replies = client.conversations_replies(channel="C0SUPPORT", ts=question.ts)["messages"]
    assert [m["text"] for m in replies] == [
        "How do I reset my password?",
        "Looking…",
        "Here is how.",
    ]
    assert replies[0]["reply_count"] == 2
    assert replies[0]["reply_users"] == ["U0BOT"]
    assert replies[1]["parent_user_id"] == "U0ALICE"
    history = client.conversations_history(channel="C0SUPPORT")["messages"]
    assert [m["text"] for m in history] == ["unrelated", "How do I reset my password?"]
    assert [m.text for m in fake.messages_in("C0SUPPORT", thread_ts=question.ts, user="U0BOT")] == [
        "Looking…",
        "Here is how.",
    ]
    last = fake.last_message("C0SUPPORT", question.ts)
    assert last is not None
    assert last.text == "Here is how."


def test_posting_into_an_unknown_thread_or_channel_fails(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as thread:
        client.chat_postMessage(channel="C0SUPPORT", thread_ts="1000000000.000001", text="x")
    assert slack_error(thread) == "thread_not_found"
    with pytest.raises(SlackApiError) as channel:
        client.chat_postMessage(channel="C0NOWHERE", text="x")
    assert slack_error(channel) == "channel_not_found"
    with pytest.raises(SlackApiError) as empty:
        client.api_call("chat.postMessage", json={"channel": "C0SUPPORT"})
    assert slack_error(empty) == "no_text"


def test_bot_outside_a_channel_cannot_post_until_it_joins() -> None:
    workspace = SlackWorkspace.default().model_copy(
        update={
            "channels": (
                *SlackWorkspace.default().channels,
                SlackChannel(id="C0QUIET", name="quiet", bot_is_member=False),
            )
        }
    )
    with FakeSlack(workspace) as fake:
        client = WebClient(token=fake.bot_token, base_url=fake.api_url)
        with pytest.raises(SlackApiError) as excinfo:
            client.chat_postMessage(channel="C0QUIET", text="hello")
        assert slack_error(excinfo) == "not_in_channel"
        client.conversations_join(channel="C0QUIET")
        assert client.chat_postMessage(channel="#quiet", text="hello")["channel"] == "C0QUIET"


def test_posting_to_a_user_id_opens_the_dm(client: WebClient, fake: FakeSlack) -> None:
    answer = client.chat_postMessage(channel="U0ALICE", text="psst")
    assert answer["channel"] == "D0ALICE"
    assert client.conversations_open(users="U0ALICE")["channel"]["id"] == "D0ALICE"
    assert client.conversations_info(channel="D0ALICE")["channel"]["is_im"] is True


def test_update_and_delete_follow_slack_rules(client: WebClient, fake: FakeSlack) -> None:
    mine = client.chat_postMessage(channel="C0SUPPORT", text="draft")["ts"]
    theirs = fake.post_as_user("U0ALICE", "C0SUPPORT", "my question")

    updated = client.chat_update(channel="C0SUPPORT", ts=mine, text="final")
    assert updated["text"] == "final"
    message = fake.message("C0SUPPORT", mine)
    assert message is not None
    assert message.text == "final"
    assert message.edited is not None

    for ts, expected in (
        ("1000000000.000001", "message_not_found"),
        (theirs.ts, "cant_update_message"),
    ):
        with pytest.raises(SlackApiError) as excinfo:
            client.chat_update(channel="C0SUPPORT", ts=ts, text="edited")
        assert slack_error(excinfo) == expected
    with pytest.raises(SlackApiError) as not_mine:
        client.chat_delete(channel="C0SUPPORT", ts=theirs.ts)
    assert slack_error(not_mine) == "cant_delete_message"

    client.chat_delete(channel="C0SUPPORT", ts=mine)
    with pytest.raises(SlackApiError) as gone:
        client.chat_update(channel="C0SUPPORT", ts=mine, text="again")
    assert slack_error(gone) == "message_not_found"


def test_permalink_of_a_reply_names_its_thread(client: WebClient, fake: FakeSlack) -> None:
    question = fake.post_as_user("U0ALICE", "C0SUPPORT", "q")
    reply = client.chat_postMessage(channel="C0SUPPORT", thread_ts=question.ts, text="a")["ts"]
    top = client.chat_getPermalink(channel="C0SUPPORT", message_ts=question.ts)["permalink"]
    threaded = client.chat_getPermalink(channel="C0SUPPORT", message_ts=reply)["permalink"]
    assert top == f"https://acme.slack.com/archives/C0SUPPORT/p{question.ts.replace('.', '')}"
    assert threaded.endswith(f"?thread_ts={question.ts}&cid=C0SUPPORT")
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_getPermalink(channel="C0SUPPORT", message_ts="1000000000.000001")
    assert slack_error(excinfo) == "message_not_found"


def test_reactions(client: WebClient, fake: FakeSlack) -> None:
    question = fake.post_as_user("U0ALICE", "C0SUPPORT", "q")
    client.reactions_add(channel="C0SUPPORT", timestamp=question.ts, name="eyes")
    with pytest.raises(SlackApiError) as twice:
        client.reactions_add(channel="C0SUPPORT", timestamp=question.ts, name="eyes")
    assert slack_error(twice) == "already_reacted"
    message = fake.message("C0SUPPORT", question.ts)
    assert message is not None
    assert message.reactions == {"eyes": ["U0BOT"]}

    client.reactions_remove(channel="C0SUPPORT", timestamp=question.ts, name="eyes")
    with pytest.raises(SlackApiError) as none_left:
        client.reactions_remove(channel="C0SUPPORT", timestamp=question.ts, name="eyes")
    assert slack_error(none_left) == "no_reaction"
    with pytest.raises(SlackApiError) as no_message:
        client.reactions_add(channel="C0SUPPORT", timestamp="1000000000.000001", name="eyes")
    assert slack_error(no_message) == "message_not_found"


def test_ephemeral_messages_reach_only_channel_members() -> None:
    base = SlackWorkspace.default()
    workspace = base.model_copy(
        update={
            "channels": (
                *base.channels,
                SlackChannel(id="C0SMALL", name="small", members=("U0ALICE",)),
            )
        }
    )
    with FakeSlack(workspace) as fake:
        client = WebClient(token=fake.bot_token, base_url=fake.api_url)
        client.chat_postEphemeral(channel="C0SMALL", user="U0ALICE", text="only you")
        with pytest.raises(SlackApiError) as excinfo:
            client.chat_postEphemeral(channel="C0SMALL", user="U0DAVE", text="not you")
        assert slack_error(excinfo) == "user_not_in_channel"
        assert [e.text for e in fake.ephemerals("C0SMALL", user="U0ALICE")] == ["only you"]
        assert fake.messages_in("C0SMALL") == []


def test_users_groups_and_channels(client: WebClient) -> None:
    assert client.users_info(user="U0BOB")["user"]["name"] == "bob"
    assert client.users_info(user="U0BOT")["user"]["is_bot"] is True
    assert client.usergroups_users_list(usergroup="S0REVIEW")["users"] == ["U0BOB", "U0CAROL"]
    handles = {g["handle"]: g["id"] for g in client.usergroups_list()["usergroups"]}
    assert handles["support-reviewers"] == "S0REVIEW"
    info = client.conversations_info(channel="C0REVIEW")["channel"]
    assert (info["name"], info["is_channel"], info["is_member"]) == ("support-review", True, True)
    for call, error in (
        (lambda: client.users_info(user="U0NOBODY"), "user_not_found"),
        (lambda: client.usergroups_users_list(usergroup="S0NONE"), "no_such_subteam"),
        (lambda: client.conversations_info(channel="C0NONE"), "channel_not_found"),
    ):
        with pytest.raises(SlackApiError) as excinfo:
            call()
        assert slack_error(excinfo) == error


def test_form_and_json_bodies_are_recorded_decoded(client: WebClient, fake: FakeSlack) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]
    client.api_call(
        "chat.postMessage",
        params={"channel": "C0SUPPORT", "text": "form", "blocks": json.dumps(blocks)},
    )
    client.chat_postMessage(channel="C0SUPPORT", text="json", blocks=blocks)
    form_call, json_call = fake.calls("chat.postMessage")
    assert form_call.args["blocks"] == blocks
    assert json_call.args["blocks"] == blocks
    assert "token" not in form_call.args
    assert [m.blocks for m in fake.messages_in("C0SUPPORT")] == [blocks, blocks]


# -- scripted failures and rate limits ---------------------------------------------------------
def test_429_is_retried_by_slack_sdks_retry_handler(fake: FakeSlack) -> None:
    client = WebClient(
        token=fake.bot_token,
        base_url=fake.api_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)],
    )
    fake.fail_next("chat.postMessage", status=429, retry_after=0)
    answer = client.chat_postMessage(channel="C0SUPPORT", text="eventually")
    assert answer["ok"] is True
    statuses = [(c.status, c.cause) for c in fake.calls("chat.postMessage")]
    assert statuses == [(429, "scripted"), (200, None)]
    assert [m.text for m in fake.messages_in("C0SUPPORT")] == ["eventually"]
    fake.assert_no_rejections()


def test_429_without_a_retry_handler_surfaces_retry_after(
    client: WebClient, fake: FakeSlack
) -> None:
    fake.fail_next("chat.postMessage", status=429, retry_after=7)
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel="C0SUPPORT", text="x")
    assert excinfo.value.response.status_code == 429
    assert excinfo.value.response.headers["Retry-After"] == "7"
    assert slack_error(excinfo) == "ratelimited"
    assert fake.messages_in("C0SUPPORT") == []


def test_scripted_errors_apply_in_order_then_stop(client: WebClient, fake: FakeSlack) -> None:
    ts = client.chat_postMessage(channel="C0SUPPORT", text="v1")["ts"]
    fake.fail_next("chat.update", error="ratelimited", times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as excinfo:
            client.chat_update(channel="C0SUPPORT", ts=ts, text="v2")
        assert slack_error(excinfo) == "ratelimited"
        assert excinfo.value.response.status_code == 200
    client.chat_update(channel="C0SUPPORT", ts=ts, text="v2")
    message = fake.message("C0SUPPORT", ts)
    assert message is not None
    assert message.text == "v2"
    with pytest.raises(ValueError, match="no method"):
        fake.fail_next("chat.teleport", error="x")


def test_channel_rate_limit_allows_a_burst_then_one_per_second(
    fake: FakeSlack, client: WebClient, clock: FakeClock
) -> None:
    fake.set_channel_rate_limit(ChannelRateLimit(per_second=1.0, burst=2))
    client.chat_postMessage(channel="C0SUPPORT", text="1")
    client.chat_postMessage(channel="C0SUPPORT", text="2")
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel="C0SUPPORT", text="3")
    assert excinfo.value.response.status_code == 429
    client.chat_postMessage(channel="C0GENERAL", text="other channel")  # its own budget
    clock.advance(1.0)
    client.chat_postMessage(channel="C0SUPPORT", text="3 again")
    assert [m.text for m in fake.messages_in("C0SUPPORT")] == ["1", "2", "3 again"]
    assert [c.cause for c in fake.rejections(include_rate_limited=True)] == ["rate_limit"]
    fake.assert_no_rejections()


def test_assert_no_rejections_lists_what_slack_refused(client: WebClient, fake: FakeSlack) -> None:
    fake.fail_next("chat.postMessage", error="fatal_error")
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C0SUPPORT", text="scripted")
    fake.assert_no_rejections()  # a scripted failure is not the app's fault
    with pytest.raises(SlackApiError):
        client.chat_update(channel="C0SUPPORT", ts="1000000000.000001", text="x")
    with pytest.raises(AssertionError, match=r"chat.update -> message_not_found"):
        fake.assert_no_rejections()


def test_wait_for_call_sees_work_done_after_an_ack(client: WebClient, fake: FakeSlack) -> None:
    worker = threading.Timer(
        0.05, lambda: client.chat_postMessage(channel="C0SUPPORT", text="late")
    )
    worker.start()
    call = fake.wait_for_call("chat.postMessage", lambda c: c.args.get("text") == "late")
    worker.join()
    assert call.ok
    assert fake.wait_for_message("C0SUPPORT", predicate=lambda m: m.text == "late").user == "U0BOT"
    with pytest.raises(TimeoutError, match=r"chat\.delete"):
        fake.wait_for_call("chat.delete", timeout=0.05)


# -- files -------------------------------------------------------------------------------------
def test_files_upload_v2_shares_the_file_into_a_thread(client: WebClient, fake: FakeSlack) -> None:
    digest = client.chat_postMessage(channel="C0DIGEST", text="Daily digest")["ts"]
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10

    answer = client.files_upload_v2(
        channel="C0DIGEST",
        thread_ts=digest,
        content=png,
        filename="escalations.png",
        title="Escalation rate",
        initial_comment="Last 14 days",
    )

    file_id = answer["file"]["id"]
    shared = fake.file(file_id)
    assert shared is not None
    assert shared.content == png
    assert (shared.title, shared.channels, shared.thread_ts) == (
        "Escalation rate",
        ["C0DIGEST"],
        digest,
    )
    thread = fake.messages_in("C0DIGEST", thread_ts=digest)
    assert [(m.text, m.files) for m in thread[1:]] == [("Last 14 days", [file_id])]
    assert client.files_info(file=file_id)["file"]["size"] == len(png)
    assert [c.method for c in fake.calls()][-4:] == [
        "files.getUploadURLExternal",
        UPLOAD,
        "files.completeUploadExternal",
        "files.info",
    ]


def upload(url: str, data: bytes) -> int:
    """POST bytes to an upload URL the way slack_sdk's files_upload_v2 does."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, method="POST")) as r:
            return int(r.status)
    except urllib.error.HTTPError as error:
        with error:
            return int(error.code)


def test_an_upload_url_takes_bytes_once_and_completion_needs_them(
    client: WebClient, fake: FakeSlack
) -> None:
    ticket = client.files_getUploadURLExternal(filename="a.txt", length=3)
    with pytest.raises(SlackApiError) as early:
        client.files_completeUploadExternal(
            files=[{"id": ticket["file_id"]}], channel_id="C0GENERAL"
        )
    assert slack_error(early) == "file_not_found"
    assert upload(ticket["upload_url"], b"abc") == 200
    assert upload(ticket["upload_url"], b"xyz") == 404
    client.files_completeUploadExternal(files=[{"id": ticket["file_id"]}], channel_id="C0GENERAL")
    assert fake.files()[0].content == b"abc"
    with pytest.raises(SlackApiError) as again:
        client.files_completeUploadExternal(
            files=[{"id": ticket["file_id"]}], channel_id="C0GENERAL"
        )
    assert slack_error(again) == "file_already_completed"


# -- views -------------------------------------------------------------------------------------
MODAL = {
    "type": "modal",
    "callback_id": "edit_answer",
    "title": {"type": "plain_text", "text": "Edit the answer"},
    "submit": {"type": "plain_text", "text": "Send"},
    "private_metadata": "esc-42",
    "blocks": [
        {
            "type": "input",
            "block_id": "answer",
            "label": {"type": "plain_text", "text": "Answer"},
            "element": {"type": "plain_text_input", "action_id": "text", "multiline": True},
        }
    ],
}


def test_a_trigger_id_opens_one_view(client: WebClient, fake: FakeSlack) -> None:
    trigger = fake.mint_trigger_id("U0BOB")
    opened = client.views_open(trigger_id=trigger, view=MODAL)["view"]
    assert opened["private_metadata"] == "esc-42"
    assert fake.views(user="U0BOB")[0].id == opened["id"]
    with pytest.raises(SlackApiError) as reused:
        client.views_open(trigger_id=trigger, view=MODAL)
    assert slack_error(reused) == "exchanged_trigger_id"
    with pytest.raises(SlackApiError) as unknown:
        client.views_open(trigger_id="123.456.deadbeef", view=MODAL)
    assert slack_error(unknown) == "invalid_trigger_id"


def test_a_trigger_id_expires_after_three_seconds(
    client: WebClient, fake: FakeSlack, clock: FakeClock
) -> None:
    trigger = fake.mint_trigger_id("U0BOB")
    clock.advance(timedelta(seconds=3.5))
    with pytest.raises(SlackApiError) as excinfo:
        client.views_open(trigger_id=trigger, view=MODAL)
    assert slack_error(excinfo) == "expired_trigger_id"


def test_views_update_checks_the_hash_and_push_stacks(client: WebClient, fake: FakeSlack) -> None:
    opened = client.views_open(trigger_id=fake.mint_trigger_id("U0BOB"), view=MODAL)["view"]
    changed = {**MODAL, "private_metadata": "esc-43"}
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=changed)["view"]
    assert updated["private_metadata"] == "esc-43"
    with pytest.raises(SlackApiError) as stale:
        client.views_update(view_id=opened["id"], hash=opened["hash"], view=MODAL)
    assert slack_error(stale) == "hash_conflict"
    with pytest.raises(SlackApiError) as missing:
        client.views_update(view_id="V0MISSING", view=MODAL)
    assert slack_error(missing) == "not_found"

    submission = fake.traffic.view_submission("U0BOB", opened["id"], {"text": "why?"})
    pushed = client.views_push(trigger_id=submission.payload["trigger_id"], view=MODAL)["view"]
    assert (pushed["root_view_id"], pushed["previous_view_id"]) == (opened["id"], opened["id"])


# -- response_url ------------------------------------------------------------------------------
def test_response_url_posts_are_recorded_and_take_effect(
    client: WebClient, fake: FakeSlack
) -> None:
    review = client.chat_postMessage(
        channel="C0REVIEW",
        text="Review",
        blocks=[
            {
                "type": "actions",
                "block_id": "review",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "approve",
                        "text": {"type": "plain_text", "text": "Approve"},
                        "value": "esc-1",
                    }
                ],
            }
        ],
    )["ts"]
    click = fake.traffic.block_action("U0BOB", "C0REVIEW", review, "approve")
    hook = WebhookClient(click.payload["response_url"])
    assert hook.send(text="Approved by Bob", replace_original=True).status_code == 200
    updated = fake.message("C0REVIEW", review)
    assert updated is not None
    assert (updated.text, updated.blocks) == ("Approved by Bob", [])

    command = fake.traffic.slash_command("U0ALICE", "C0SUPPORT", "status")
    private = WebhookClient(command.payload["response_url"])
    assert private.send(text="All good", response_type="ephemeral").status_code == 200
    assert [e.text for e in fake.ephemerals("C0SUPPORT", user="U0ALICE")] == ["All good"]
    assert [c.args["text"] for c in fake.response_url_posts()] == ["Approved by Bob", "All good"]
    assert all(c.method == RESPONSE_URL for c in fake.response_url_posts())
    assert WebhookClient(fake.url + "/response_url/T0ACME/0/nope").send(text="x").status_code == 404


def test_subscribers_see_each_answered_call(fake: FakeSlack) -> None:
    seen: list[tuple[str, bool]] = []
    fake.subscribe(lambda call: seen.append((call.method, call.ok)))
    client = fake.web_client()
    client.chat_postMessage(channel="C0SUPPORT", text="hi")
    with pytest.raises(SlackApiError):
        client.users_info(user="U0NOBODY")
    assert seen == [("chat.postMessage", True), ("users.info", False)]


def test_response_url_replaces_an_ephemeral_and_deletes_a_message(
    client: WebClient, fake: FakeSlack
) -> None:
    buttons = [
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "helpful",
                    "text": {"type": "plain_text", "text": "Helpful"},
                }
            ],
        }
    ]
    ephemeral_ts = client.chat_postEphemeral(
        channel="C0SUPPORT", user="U0ALICE", text="private answer", blocks=buttons
    )["message_ts"]
    click = fake.traffic.block_action("U0ALICE", "C0SUPPORT", ephemeral_ts, "helpful")
    assert click.payload["container"]["is_ephemeral"] is True
    assert "message" not in click.payload
    WebhookClient(click.payload["response_url"]).send(text="Thanks!", replace_original=True)
    assert [(e.text, e.blocks) for e in fake.ephemerals(user="U0ALICE")] == [("Thanks!", [])]

    public_ts = client.chat_postMessage(channel="C0SUPPORT", text="public", blocks=buttons)["ts"]
    public_click = fake.traffic.block_action("U0DAVE", "C0SUPPORT", public_ts, "helpful")
    WebhookClient(public_click.payload["response_url"]).send_dict({"delete_original": True})
    assert fake.message("C0SUPPORT", public_ts) is None


def test_history_pages_with_slack_sdks_cursor_iteration(client: WebClient) -> None:
    for i in range(5):
        client.chat_postMessage(channel="C0GENERAL", text=f"m{i}")
    pages = [
        [m["text"] for m in page["messages"]]
        for page in client.conversations_history(channel="C0GENERAL", limit=2)
    ]
    assert pages == [["m4", "m3"], ["m2", "m1"], ["m0"]]
