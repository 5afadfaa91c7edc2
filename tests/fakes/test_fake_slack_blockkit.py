"""Block Kit limits: the fake rejects what Slack rejects, and accepts what is at the limit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from supportbot.fakes.slack import FakeSlack, blocks_problems, view_problems


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as slack:
        yield slack


@pytest.fixture(scope="module")
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token=fake.bot_token, base_url=fake.api_url)


def section(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def button(
    text: str = "Approve", *, value: str = "v", action_id: str = "approve"
) -> dict[str, Any]:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "value": value,
        "action_id": action_id,
    }


def actions(*elements: dict[str, Any], block_id: str = "buttons") -> dict[str, Any]:
    return {"type": "actions", "block_id": block_id, "elements": list(elements)}


def fields(*texts: str) -> dict[str, Any]:
    return {"type": "section", "fields": [{"type": "mrkdwn", "text": t} for t in texts]}


INVALID_MESSAGES = {
    "51 blocks": ([section("x")] * 51, "no more than 50 items allowed [json-pointer:/blocks]"),
    "section text of 3001": ([section("x" * 3001)], "[json-pointer:/blocks/0/text/text]"),
    "section field of 2001": ([fields("ok", "y" * 2001)], "[json-pointer:/blocks/0/fields/1/text]"),
    "11 section fields": ([fields(*"abcdefghijk")], "[json-pointer:/blocks/0/fields]"),
    "button text of 76": ([actions(button("b" * 76))], "/blocks/0/elements/0/text/text]"),
    "button value of 2001": ([actions(button(value="v" * 2001))], "/elements/0/value]"),
    "action_id of 256": ([actions(button(action_id="a" * 256))], "/elements/0/action_id]"),
    "block_id of 256": ([section("x", block_id="b" * 256)], "[json-pointer:/blocks/0/block_id]"),
    "unknown block type": ([{"type": "carousel"}], "[json-pointer:/blocks/0/type]"),
    "input without a label": ([{"type": "input"}], "[json-pointer:/blocks/0/label]"),
    "duplicate block_id": (
        [section("a", block_id="same"), section("b", block_id="same")],
        "duplicate block_id 'same' [json-pointer:/blocks/1/block_id]",
    ),
    "empty text": ([section("")], "must be more than 0 characters"),
    "button with mrkdwn text": (
        [actions({**button(), "text": {"type": "mrkdwn", "text": "*b*"}})],
        "/elements/0/text/type]",
    ),
}


@pytest.mark.parametrize("case", sorted(INVALID_MESSAGES))
def test_invalid_blocks_are_rejected_with_slacks_error(
    case: str, client: WebClient, fake: FakeSlack
) -> None:
    blocks, expected_problem = INVALID_MESSAGES[case]
    before = len(fake.messages_in("C0SUPPORT"))
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel="C0SUPPORT", text="fallback", blocks=blocks)
    response = excinfo.value.response
    assert response["error"] == "invalid_blocks"
    assert any(expected_problem in problem for problem in response["errors"]), response["errors"]
    assert response["response_metadata"]["messages"][0].startswith("[ERROR] ")
    assert len(fake.messages_in("C0SUPPORT")) == before
    assert fake.rejections()[-1].error == "invalid_blocks"


def test_everything_exactly_at_the_limits_is_accepted(client: WebClient, fake: FakeSlack) -> None:
    blocks = [
        section("s" * 3000, block_id="b" * 255),
        fields(*(["f" * 2000] * 10)),
        actions(button("t" * 75, value="v" * 2000, action_id="a" * 255)),
        {"type": "header", "text": {"type": "plain_text", "text": "h" * 150}},
        {"type": "divider"},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 10},
    ]
    blocks += [section(f"filler {i}") for i in range(50 - len(blocks))]
    ts = client.chat_postMessage(channel="C0SUPPORT", text="t" * 40_000, blocks=blocks)["ts"]
    stored = fake.message("C0SUPPORT", ts)
    assert stored is not None
    assert stored.blocks == blocks
    client.chat_update(channel="C0SUPPORT", ts=ts, text="short", blocks=blocks[:3])


def test_message_text_over_40000_characters_is_too_long(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postMessage(channel="C0SUPPORT", text="t" * 40_001)
    assert excinfo.value.response["error"] == "msg_too_long"


def test_update_checks_blocks_too(client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C0SUPPORT", text="ok")["ts"]
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_update(channel="C0SUPPORT", ts=ts, text="ok", blocks=[section("x" * 3001)])
    assert excinfo.value.response["error"] == "invalid_blocks"


def test_blocks_that_are_not_json_are_a_format_error(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.api_call(
            "chat.postMessage", params={"channel": "C0SUPPORT", "text": "x", "blocks": "[{oops"}
        )
    assert excinfo.value.response["error"] == "invalid_blocks_format"


def modal(**changes: Any) -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": "reject",
        "title": {"type": "plain_text", "text": "Reject"},
        "submit": {"type": "plain_text", "text": "Reject"},
        "blocks": [
            {
                "type": "input",
                "block_id": "reason",
                "label": {"type": "plain_text", "text": "Why?"},
                "element": {"type": "plain_text_input", "action_id": "reason"},
            }
        ],
    }
    view.update(changes)
    return view


INVALID_VIEWS = {
    "title of 25": (modal(title={"type": "plain_text", "text": "t" * 25}), "/view/title/text]"),
    "private_metadata of 3001": (modal(private_metadata="m" * 3001), "/view/private_metadata]"),
    "101 blocks": (modal(blocks=[section("x")] * 101), "no more than 100 items"),
    "input without submit": (modal(submit=None), "[json-pointer:/view/submit]"),
    "submit text of 25": (modal(submit={"type": "plain_text", "text": "s" * 25}), "/submit/text]"),
    "callback_id of 256": (modal(callback_id="c" * 256), "[json-pointer:/view/callback_id]"),
}


@pytest.mark.parametrize("case", sorted(INVALID_VIEWS))
def test_invalid_views_are_rejected_and_keep_the_trigger(
    case: str, client: WebClient, fake: FakeSlack
) -> None:
    view, expected_problem = INVALID_VIEWS[case]
    trigger = fake.mint_trigger_id("U0BOB")
    with pytest.raises(SlackApiError) as excinfo:
        client.views_open(trigger_id=trigger, view=view)
    response = excinfo.value.response
    assert response["error"] == "invalid_arguments"
    messages = response["response_metadata"]["messages"]
    assert any(expected_problem in m for m in messages), messages
    assert client.views_open(trigger_id=trigger, view=modal())["ok"] is True


def test_a_view_at_its_limits_is_accepted(client: WebClient, fake: FakeSlack) -> None:
    view = modal(
        title={"type": "plain_text", "text": "t" * 24},
        private_metadata="m" * 3000,
        blocks=[modal()["blocks"][0], *[section(f"s{i}") for i in range(99)]],
    )
    opened = client.views_open(trigger_id=fake.mint_trigger_id("U0BOB"), view=view)["view"]
    assert len(opened["blocks"]) == 100


def test_the_checkers_are_usable_directly() -> None:
    assert blocks_problems([section("fine")]) == []
    assert blocks_problems([section("x" * 3001)]) == [
        "must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
    ]
    assert view_problems(modal()) == []
    assert view_problems({"type": "modal"}) == [
        "missing required field [json-pointer:/view/title]",
        "missing required field [json-pointer:/view/blocks]",
    ]
