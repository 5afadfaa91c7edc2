"""views.open/push/update/publish: single-use trigger_ids, hashes, the view stack."""

from __future__ import annotations

from supportbot.fakes.slack import blockkit
from supportbot.fakes.slack.state import VIEW_STACK_MAX, ApiFailure, JsonDict, OpenedView, new_id

from .base import ApiContext, Args, method


def _view_problems_failure(problems: list[str]) -> ApiFailure:
    return ApiFailure(
        "invalid_arguments",
        extra={"response_metadata": {"messages": [f"[ERROR] {p}" for p in problems]}},
    )


def _checked_view(args: Args) -> JsonDict:
    view = args.decoded("view", format_error="invalid_arguments")
    if view is None:
        raise ApiFailure(
            "invalid_arguments",
            extra={"response_metadata": {"messages": ["[ERROR] missing required field: view"]}},
        )
    problems = blockkit.view_problems(view)
    if problems:
        raise _view_problems_failure(problems)
    assert isinstance(view, dict)
    return view


@method("views.open")
def views_open(ctx: ApiContext, args: Args) -> JsonDict:
    state = ctx.state
    if args.text("trigger_id") is None and args.text("interactivity_pointer") is None:
        raise ApiFailure(
            "invalid_arguments",
            extra={
                "response_metadata": {"messages": ["[ERROR] missing required field: trigger_id"]}
            },
        )
    view = _checked_view(args)
    if view.get("type") != "modal":
        raise _view_problems_failure(["must be modal [json-pointer:/view/type]"])
    trigger = state.exchange_trigger(args.text("trigger_id") or args.text("interactivity_pointer"))
    view_id = new_id("V")
    opened = OpenedView(
        id=view_id,
        user=trigger.user,
        view=view,
        hash=state.new_view_hash(),
        root_view_id=view_id,
        trigger_id=trigger.id,
    )
    state.views[view_id] = opened
    return {"view": state.view_json(opened)}


@method("views.push")
def views_push(ctx: ApiContext, args: Args) -> JsonDict:
    state = ctx.state
    view = _checked_view(args)
    trigger = state.exchange_trigger(args.text("trigger_id") or args.text("interactivity_pointer"))
    source = state.views.get(trigger.view_id or "")
    if source is None or source.closed:
        candidates = [v for v in state.views.values() if v.user == trigger.user and not v.closed]
        if not candidates:
            raise ApiFailure("not_found")
        source = candidates[-1]
    stack = state.view_stack(source.root_view_id)
    if len(stack) >= VIEW_STACK_MAX:
        raise ApiFailure("push_limit_reached")
    view_id = new_id("V")
    opened = OpenedView(
        id=view_id,
        user=trigger.user,
        view=view,
        hash=state.new_view_hash(),
        root_view_id=source.root_view_id,
        previous_view_id=stack[-1].id,
        trigger_id=trigger.id,
    )
    state.views[view_id] = opened
    return {"view": state.view_json(opened)}


@method("views.update")
def views_update(ctx: ApiContext, args: Args) -> JsonDict:
    state = ctx.state
    view = _checked_view(args)
    view_id, external_id = args.text("view_id"), args.text("external_id")
    if view_id is None and external_id is None:
        raise ApiFailure("invalid_arguments")
    opened = state.views.get(view_id or "")
    if opened is None and external_id is not None:
        opened = next(
            (v for v in state.views.values() if v.view.get("external_id") == external_id), None
        )
    if opened is None or opened.closed:
        raise ApiFailure("not_found")
    expected_hash = args.text("hash")
    if expected_hash is not None and expected_hash != opened.hash:
        raise ApiFailure("hash_conflict")
    opened.view = view
    opened.hash = state.new_view_hash()
    return {"view": state.view_json(opened)}


@method("views.publish")
def views_publish(ctx: ApiContext, args: Args) -> JsonDict:
    state = ctx.state
    user = args.text("user_id")
    if user is None or user not in state.users:
        raise ApiFailure("user_not_found")
    view = _checked_view(args)
    if view.get("type") != "home":
        raise _view_problems_failure(["must be home [json-pointer:/view/type]"])
    existing = next(
        (v for v in state.views.values() if v.user == user and v.view.get("type") == "home"), None
    )
    if existing is None:
        view_id = new_id("V")
        existing = OpenedView(
            id=view_id, user=user, view=view, hash=state.new_view_hash(), root_view_id=view_id
        )
        state.views[view_id] = existing
    else:
        existing.view, existing.hash = view, state.new_view_hash()
    return {"view": state.view_json(existing)}
