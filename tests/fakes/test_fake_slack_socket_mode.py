"""The fake Socket Mode endpoint, driven by slack_sdk's Socket Mode clients and bolt's handler."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from slack_bolt import App, Say
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.socket_mode.aiohttp import SocketModeClient as AiohttpSocketModeClient
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from supportbot.fakes.slack import FakeSlack


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as slack:
        yield slack


def close_quickly(fake: FakeSlack, client: SocketModeClient) -> None:
    """The builtin client waits out its 3 s socket timeout when it closes first; closing
    from the server side ends its receive loop at once."""
    client.auto_reconnect_enabled = False
    fake.socket.close_connections()
    client.close()


@pytest.fixture
def socket_client(fake: FakeSlack) -> Iterator[tuple[SocketModeClient, list[SocketModeRequest]]]:
    """slack_sdk's builtin client (bolt's default); acks each request, echoing slash commands."""
    received: list[SocketModeRequest] = []

    def listener(client: SocketModeClient, request: SocketModeRequest) -> None:
        received.append(request)
        payload = (
            {"text": f"echo {request.payload['text']}"}
            if request.type == "slash_commands"
            else None
        )
        client.send_socket_mode_response(SocketModeResponse(request.envelope_id, payload))

    client = SocketModeClient(
        app_token=fake.app_token,
        web_client=WebClient(token=fake.bot_token, base_url=fake.api_url),
    )
    client.socket_mode_request_listeners.append(listener)
    client.connect()
    fake.socket.wait_connected()
    try:
        yield client, received
    finally:
        close_quickly(fake, client)


def test_round_trip_through_the_builtin_client(
    fake: FakeSlack, socket_client: tuple[SocketModeClient, list[SocketModeRequest]]
) -> None:
    _, received = socket_client
    mention = fake.traffic.app_mention("U0ALICE", "C0SUPPORT", "are you there?")

    ack = fake.socket.push(mention)

    assert ack.payload is None
    assert received[0].type == "events_api"
    assert received[0].envelope_id == ack.envelope_id
    assert received[0].payload["event"]["text"] == "<@U0BOT> are you there?"
    assert fake.calls("apps.connections.open")[0].token == fake.app_token

    command = fake.socket.push(fake.traffic.slash_command("U0ALICE", "C0SUPPORT", "status"))
    assert command.payload == {"text": "echo status"}
    assert [a.envelope_id for a in fake.socket.acks()] == [ack.envelope_id, command.envelope_id]


def test_envelopes_look_like_slacks(
    fake: FakeSlack, socket_client: tuple[SocketModeClient, list[SocketModeRequest]]
) -> None:
    _, received = socket_client
    retry = fake.traffic.app_mention("U0ALICE", "C0SUPPORT").retried(1, "timeout")
    envelope_id = fake.socket.send(retry)
    fake.socket.wait_for_ack(envelope_id)
    envelope = fake.socket.envelopes()[-1]
    assert envelope["type"] == "events_api"
    assert (envelope["retry_attempt"], envelope["retry_reason"]) == (1, "timeout")
    assert envelope["accepts_response_payload"] is False
    assert received[0].retry_attempt == 1


def test_a_disconnect_request_makes_the_client_reconnect(
    fake: FakeSlack, socket_client: tuple[SocketModeClient, list[SocketModeRequest]]
) -> None:
    fake.socket.request_disconnect()
    fake.wait_for_call("apps.connections.open", count=2)
    fake.socket.wait_connected()
    ack = fake.socket.push(fake.traffic.app_mention("U0ALICE", "C0SUPPORT", "still there?"))
    assert ack.envelope_id


def test_a_websocket_needs_a_fresh_ticket(fake: FakeSlack) -> None:
    web = WebClient(token=fake.app_token, base_url=fake.api_url)
    url = web.apps_connections_open(app_token=fake.app_token)["url"]
    assert url.startswith(f"ws://127.0.0.1:{fake.url.rsplit(':', 1)[1]}/link/?ticket=")
    forged = fake.url + "/link/?ticket=forged"
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(forged, timeout=5)
    with excinfo.value:
        assert excinfo.value.code == 401
    with pytest.raises(RuntimeError, match="no Socket Mode client"):
        fake.socket.send(fake.traffic.app_mention("U0ALICE", "C0SUPPORT"))


def test_round_trip_through_the_aiohttp_client(fake: FakeSlack) -> None:
    async def run() -> dict[str, Any] | None:
        client = AiohttpSocketModeClient(
            app_token=fake.app_token,
            web_client=AsyncWebClient(token=fake.bot_token, base_url=fake.api_url),
        )

        async def listener(client: AiohttpSocketModeClient, request: SocketModeRequest) -> None:
            await client.send_socket_mode_response(
                SocketModeResponse(request.envelope_id, {"response_action": "clear"})
            )

        client.socket_mode_request_listeners.append(listener)
        await client.connect()
        try:
            await asyncio.to_thread(fake.socket.wait_connected)
            click = fake.traffic.slash_command("U0BOB", "C0SUPPORT", "status")
            ack = await asyncio.to_thread(fake.socket.push, click)
            return ack.payload
        finally:
            await client.close()

    assert asyncio.run(run()) == {"response_action": "clear"}


def test_a_bolt_app_answers_over_socket_mode(fake: FakeSlack) -> None:
    app = App(client=WebClient(token=fake.bot_token, base_url=fake.api_url))

    @app.event("app_mention")
    def on_mention(event: dict[str, Any], say: Say) -> None:
        say(text="Hello from Socket Mode", thread_ts=event["ts"])

    handler = SocketModeHandler(app, app_token=fake.app_token)
    handler.connect()
    try:
        fake.socket.wait_connected()
        mention = fake.traffic.app_mention("U0ALICE", "C0SUPPORT", "hi")
        fake.socket.push(mention)
        reply = fake.wait_for_message(
            "C0SUPPORT", mention.event["ts"], lambda m: m.user == "U0BOT", timeout=10
        )
        assert reply.text == "Hello from Socket Mode"
    finally:
        close_quickly(fake, handler.client)
    fake.assert_no_rejections()
