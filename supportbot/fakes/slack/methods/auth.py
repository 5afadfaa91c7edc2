"""auth.test, api.test and apps.connections.open (the Socket Mode ticket)."""

from __future__ import annotations

from supportbot.fakes.slack.state import JsonDict, new_id

from .base import ApiContext, Args, method


@method("api.test")
def api_test(ctx: ApiContext, args: Args) -> JsonDict:
    return {"args": {k: v for k, v in args.raw.items() if k != "token"}}


@method("auth.test")
def auth_test(ctx: ApiContext, args: Args) -> JsonDict:
    ws = ctx.state.workspace
    return {
        "url": f"https://{ws.domain}.slack.com/",
        "team": ws.team_name,
        "user": ws.bot_name,
        "team_id": ws.team_id,
        "user_id": ws.bot_user_id,
        "bot_id": ws.bot_id,
        "app_id": ws.app_id,
        "is_enterprise_install": False,
    }


@method("apps.connections.open")
def apps_connections_open(ctx: ApiContext, args: Args) -> JsonDict:
    ticket = new_id("", 32).lower()
    ctx.state.socket_tickets.add(ticket)
    host = ctx.base_url.removeprefix("http://")
    app_id = ctx.state.workspace.app_id
    return {"url": f"ws://{host}/link/?ticket={ticket}&app_id={app_id}"}
