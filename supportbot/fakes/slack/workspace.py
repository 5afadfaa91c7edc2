"""Who and what exists in the fake Slack: the team, the app, users, channels, user groups."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, model_validator

ChannelKind = Literal["public", "private", "im", "mpim"]


class SlackUser(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str
    real_name: str = ""
    is_bot: bool = False
    bot_id: str | None = None
    email: str | None = None
    tz: str = "UTC"


class SlackChannel(BaseModel):
    """A conversation. ``members`` empty means everyone in the workspace is in it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str = ""
    kind: ChannelKind = "public"
    members: tuple[str, ...] = ()
    bot_is_member: bool = True
    user: str | None = None  # the other party of a DM (kind="im")

    @model_validator(mode="after")
    def _dm_has_a_user(self) -> Self:
        if self.kind == "im" and not self.user:
            raise ValueError(f"DM channel {self.id} needs `user`, the person the bot talks to")
        return self


class SlackUsergroup(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    handle: str
    name: str = ""
    members: tuple[str, ...] = ()


class SlackWorkspace(BaseModel):
    """The seed of a fake Slack world. :meth:`default` is a small support team."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    team_id: str = "T0ACME"
    team_name: str = "Acme"
    domain: str = "acme"
    app_id: str = "A0SUPPORT"
    bot_user_id: str = "U0BOT"
    bot_id: str = "B0BOT"
    bot_name: str = "supportbot"
    bot_token: str = "xoxb-fake-bot-token"
    app_token: str = "xapp-1-A0SUPPORT-fake-app-token"
    verification_token: str = "fake-verification-token"
    users: tuple[SlackUser, ...] = ()
    channels: tuple[SlackChannel, ...] = ()
    usergroups: tuple[SlackUsergroup, ...] = ()

    @model_validator(mode="after")
    def _references_resolve(self) -> Self:
        user_ids = {u.id for u in self.users} | {self.bot_user_id}
        problems = [
            f"user group {g.id} lists unknown user {m}"
            for g in self.usergroups
            for m in g.members
            if m not in user_ids
        ]
        problems += [
            f"channel {c.id} lists unknown user {m}"
            for c in self.channels
            for m in (*c.members, *([c.user] if c.user else []))
            if m not in user_ids
        ]
        ids = [u.id for u in self.users] + [c.id for c in self.channels]
        problems += [f"duplicate id {i}" for i in sorted({i for i in ids if ids.count(i) > 1})]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @classmethod
    def default(cls) -> SlackWorkspace:
        """Alice asks, Bob and Carol review (group ``support-reviewers``), Dave does not."""
        return cls(
            users=(
                SlackUser(id="U0ALICE", name="alice", real_name="Alice Asker"),
                SlackUser(id="U0BOB", name="bob", real_name="Bob Reviewer"),
                SlackUser(id="U0CAROL", name="carol", real_name="Carol Lead"),
                SlackUser(id="U0DAVE", name="dave", real_name="Dave Bystander"),
            ),
            channels=(
                SlackChannel(id="C0GENERAL", name="general"),
                SlackChannel(id="C0SUPPORT", name="support"),
                SlackChannel(id="C0REVIEW", name="support-review"),
                SlackChannel(id="C0DIGEST", name="support-digest"),
                SlackChannel(id="D0ALICE", kind="im", user="U0ALICE"),
                SlackChannel(id="D0BOB", kind="im", user="U0BOB"),
            ),
            usergroups=(
                SlackUsergroup(
                    id="S0REVIEW",
                    handle="support-reviewers",
                    name="Support reviewers",
                    members=("U0BOB", "U0CAROL"),
                ),
                SlackUsergroup(
                    id="S0LEADS", handle="support-leads", name="Support leads", members=("U0CAROL",)
                ),
            ),
        )
