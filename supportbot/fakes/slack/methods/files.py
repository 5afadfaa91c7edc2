"""files.getUploadURLExternal + the upload URL + files.completeUploadExternal, files.info."""

from __future__ import annotations

from supportbot.fakes.slack import blockkit
from supportbot.fakes.slack.state import (
    ApiFailure,
    Conversation,
    FakeFile,
    JsonDict,
    Message,
    SlackState,
    new_id,
)

from .base import ApiContext, Args, method


@method("files.getUploadURLExternal")
def files_get_upload_url_external(ctx: ApiContext, args: Args) -> JsonDict:
    state = ctx.state
    filename = args.text("filename")
    if filename is None:
        raise ApiFailure("invalid_arguments")
    length = args.integer("length", -1)
    if length < 0:
        raise ApiFailure("invalid_arguments")
    file_id = new_id("F")
    state.files[file_id] = FakeFile(
        id=file_id,
        name=filename,
        length=length,
        user=ctx.bot_user_id,
        created=int(state.now().timestamp()),
        alt_txt=args.text("alt_txt"),
        snippet_type=args.text("snippet_type"),
    )
    upload_id = new_id("", 24).lower()
    state.uploads[upload_id] = file_id
    return {"upload_url": f"{ctx.base_url}/upload/v1/{upload_id}", "file_id": file_id}


def _uploaded_files(state: SlackState, entries: object) -> list[tuple[JsonDict, FakeFile]]:
    if not isinstance(entries, list) or not entries:
        raise ApiFailure("invalid_arguments")
    found: list[tuple[JsonDict, FakeFile]] = []
    for entry in entries:
        file = state.files.get(entry.get("id", "")) if isinstance(entry, dict) else None
        if file is None or not file.uploaded:
            raise ApiFailure("file_not_found")
        if file.completed:
            raise ApiFailure("file_already_completed")
        found.append((entry, file))
    return found


def _share_targets(ctx: ApiContext, args: Args) -> list[Conversation]:
    targets = [c for c in (args.text("channels") or "").split(",") if c]
    channel_id = args.text("channel_id")
    if channel_id is not None:
        targets.insert(0, channel_id)
    conversations = []
    for target in targets:
        conversation = ctx.state.resolve_channel(target)
        if conversation is None:
            raise ApiFailure("channel_not_found")
        if not conversation.bot_is_member and conversation.seed.kind != "im":
            raise ApiFailure("not_in_channel")
        conversations.append(conversation)
    return conversations


@method("files.completeUploadExternal")
def files_complete_upload_external(ctx: ApiContext, args: Args) -> JsonDict:
    """Completes uploads and shares the files (one message per conversation, in a thread
    when ``thread_ts`` is given); without a channel the files stay private."""
    state = ctx.state
    uploaded = _uploaded_files(state, args.decoded("files", format_error="invalid_arguments"))
    conversations = _share_targets(ctx, args)
    thread_ts = args.text("thread_ts")
    if thread_ts is not None:
        if len(conversations) != 1:
            raise ApiFailure("invalid_arguments")
        root = state.thread_root(conversations[0].seed.id, thread_ts)
        if root is None:
            raise ApiFailure("thread_not_found")
        thread_ts = root.ts
    comment = args.text("initial_comment", "") or ""
    if blockkit.message_text_too_long(comment):
        raise ApiFailure("msg_too_long")
    files = [file for _, file in uploaded]
    for entry, file in uploaded:
        file.title = entry.get("title") or file.title or file.name
        file.completed = True
    for conversation in conversations:
        message = state.add_message(
            Message(
                channel=conversation.seed.id,
                ts=state.next_ts(),
                text=comment,
                user=ctx.bot_user_id,
                thread_ts=thread_ts,
                bot_id=state.workspace.bot_id,
                app_id=state.workspace.app_id,
                files=[f.id for f in files],
            )
        )
        for file in files:
            file.channels.append(conversation.seed.id)
            file.thread_ts = thread_ts
            file.message_ts = message.ts
    return {"files": [state.file_json(f) for f in files]}


@method("files.info")
def files_info(ctx: ApiContext, args: Args) -> JsonDict:
    file = ctx.state.files.get(args.text("file") or "")
    if file is None or not file.completed:
        raise ApiFailure("file_not_found")
    return {"file": ctx.state.file_json(file)}


@method("files.upload")
def files_upload(ctx: ApiContext, args: Args) -> JsonDict:
    raise ApiFailure("method_deprecated")  # retired by Slack; files_upload_v2 is the way
