"""users.info/list and usergroups.list/users.list."""

from __future__ import annotations

from supportbot.fakes.slack.state import ApiFailure, JsonDict

from .base import ApiContext, Args, method, paginate


@method("users.info")
def users_info(ctx: ApiContext, args: Args) -> JsonDict:
    user = ctx.state.users.get(args.text("user") or "")
    if user is None:
        raise ApiFailure("user_not_found")
    return {"user": ctx.state.user_json(user)}


@method("users.list")
def users_list(ctx: ApiContext, args: Args) -> JsonDict:
    page, cursor = paginate(list(ctx.state.users.values()), args, default_limit=200)
    return {
        "members": [ctx.state.user_json(u) for u in page],
        "response_metadata": {"next_cursor": cursor},
    }


@method("usergroups.users.list")
def usergroups_users_list(ctx: ApiContext, args: Args) -> JsonDict:
    group = ctx.state.usergroups.get(args.text("usergroup") or "")
    if group is None:
        raise ApiFailure("no_such_subteam")
    return {"users": list(group.members)}


@method("usergroups.list")
def usergroups_list(ctx: ApiContext, args: Args) -> JsonDict:
    include_users = args.flag("include_users")
    groups = []
    for group in ctx.state.usergroups.values():
        data: JsonDict = {
            "id": group.id,
            "team_id": ctx.state.workspace.team_id,
            "handle": group.handle,
            "name": group.name or group.handle,
            "is_usergroup": True,
            "user_count": len(group.members),
        }
        if include_users:
            data["users"] = list(group.members)
        groups.append(data)
    return {"usergroups": groups}
