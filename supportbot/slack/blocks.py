"""Block Kit, built by pure functions from domain objects (no I/O, no clock, no settings).

Slack refuses a message or a view that breaks one of its limits; these builders never hand
it one. Every limit is a named constant below, and text that does not fit is split (an
answer spreads over several sections, then several messages) or truncated with a visible
note — never cut silently and never rejected. ``tests/slack/test_blocks.py`` feeds each
builder huge inputs and checks the output with the fake Slack's own Block Kit checker.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, Literal
from urllib.parse import quote

from supportbot.pipeline.types import Citation
from supportbot.retrieval.types import Passage
from supportbot.store.records import Escalation, Question

Block = dict[str, Any]

# -- Slack's limits -------------------------------------------------------------------------
MAX_BLOCKS: Final = 50  # blocks in one message
SECTION_TEXT_MAX: Final = 3_000  # characters of a section's text
SECTION_FIELD_MAX: Final = 2_000  # characters of one section field
SECTION_FIELDS_MAX: Final = 10  # fields in one section
HEADER_TEXT_MAX: Final = 150
CONTEXT_TEXT_MAX: Final = 3_000  # characters of one context element
CONTEXT_ELEMENTS_MAX: Final = 10
BUTTON_TEXT_MAX: Final = 75
BUTTON_VALUE_MAX: Final = 2_000
ID_MAX: Final = 255  # action_id, block_id, callback_id
MODAL_TITLE_MAX: Final = 24
MODAL_BUTTON_MAX: Final = 24  # a modal's submit and close buttons
MODAL_MAX_BLOCKS: Final = 100
INPUT_LABEL_MAX: Final = 2_000
INPUT_HINT_MAX: Final = 2_000
PLACEHOLDER_MAX: Final = 150
TEXT_INPUT_MAX: Final = 3_000  # characters a plain_text_input holds (initial_value, max_length)
PRIVATE_METADATA_MAX: Final = 3_000
MESSAGE_TEXT_MAX: Final = 40_000  # top-level ``text`` of a message

# -- our own bounds (well inside Slack's) ----------------------------------------------------
FALLBACK_TEXT_MAX: Final = 3_000
"""The ``text`` shown in notifications next to the blocks."""
MAX_ANSWER_MESSAGES: Final = 3
"""An answer longer than this many full messages is truncated with a note."""
MAX_SOURCES: Final = 10
MAX_REASONS: Final = 30
MAX_EVIDENCE: Final = 20
ANSWER_INPUT_MAX: Final = MAX_ANSWER_MESSAGES * MAX_BLOCKS * SECTION_TEXT_MAX
"""Characters of an answer looked at at all (more could never be shown)."""
QUESTION_QUOTE_MAX: Final = 2_000
REASON_MAX: Final = 400
QUOTE_MAX: Final = 300
EVIDENCE_PASSAGES: Final = 3

# -- action and callback ids (the listeners route on these) ---------------------------------
FEEDBACK_UP: Final = "feedback_up"
FEEDBACK_DOWN: Final = "feedback_down"
ASK_HUMAN: Final = "ask_human"
REVIEW_APPROVE: Final = "review_approve"
REVIEW_EDIT: Final = "review_edit"
REVIEW_REJECT: Final = "review_reject"
EDIT_CALLBACK: Final = "review_edit_submit"
REJECT_CALLBACK: Final = "review_reject_submit"
ANSWER_BLOCK: Final = "answer"  # block_id and action_id of the edit modal's input
REASON_BLOCK: Final = "reason"  # block_id and action_id of the reject modal's input

TRUNCATED_NOTE: Final = "_(shortened: the full text is longer than Slack shows in one place)_"
ANSWER_TRUNCATED_NOTE: Final = (
    "_(This answer was too long for Slack and has been cut here; see the sources below.)_"
)

ReviewStatus = Literal["pending", "approved", "edited", "rejected", "expired"]


@dataclass(frozen=True)
class SlackMessage:
    """What one ``chat.postMessage`` (or response_url post) carries."""

    text: str
    blocks: list[Block] = field(default_factory=list)


# -- text helpers ----------------------------------------------------------------------------
_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    for raw, escaped in _ESCAPES:
        text = text.replace(raw, escaped)
    return text


def truncate(text: str, limit: int, note: str = "…") -> str:
    """``text`` if it fits in ``limit`` characters, else cut at a word boundary + ``note``."""
    if len(text) <= limit:
        return text
    if len(note) >= limit:
        return note[:limit]
    room = limit - len(note)
    cut = text[:room]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    if space >= room * 0.6:
        cut = cut[:space]
    return cut.rstrip() + note


def plain(text: str, limit: int) -> dict[str, Any]:
    """A plain_text object that fits ``limit`` (never empty: Slack refuses empty text)."""
    return {"type": "plain_text", "text": truncate(text.strip() or "-", limit), "emoji": True}


def mrkdwn(text: str, limit: int = SECTION_TEXT_MAX) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": truncate(text.strip() or " ", limit)}


def section(text: str) -> Block:
    return {"type": "section", "text": mrkdwn(text, SECTION_TEXT_MAX)}


def context(*texts: str) -> Block:
    elements = [mrkdwn(t, CONTEXT_TEXT_MAX) for t in texts if t.strip()][:CONTEXT_ELEMENTS_MAX]
    return {"type": "context", "elements": elements or [mrkdwn("-", CONTEXT_TEXT_MAX)]}


def button(
    text: str, action_id: str, value: str, *, style: Literal["primary", "danger"] | None = None
) -> Block:
    element: Block = {
        "type": "button",
        "text": plain(text, BUTTON_TEXT_MAX),
        "action_id": action_id[:ID_MAX],
        "value": value[:BUTTON_VALUE_MAX],
    }
    if style is not None:
        element["style"] = style
    return element


def quote_lines(text: str) -> str:
    return "\n".join("> " + line if line.strip() else ">" for line in text.splitlines() or [""])


def mention(slack_id: str) -> str:
    """``<@U…>`` for a user, ``<!subteam^S…>`` for a user group."""
    return f"<!subteam^{slack_id}>" if slack_id.startswith("S") else f"<@{slack_id}>"


def slack_date(when: datetime) -> str:
    """A date Slack shows in the reader's own time zone, with a UTC fallback."""
    fallback = when.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(when.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def duration(delta: timedelta) -> str:
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} days"


# -- Markdown to Slack mrkdwn ------------------------------------------------------------
_FENCE = re.compile(r"^\s*```")
_QUOTE_PREFIX = re.compile(r"^(\s*(?:>\s?)+)(.*)$")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")
_BULLET = re.compile(r"^(\s*)[-*+]\s+")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|__(?=\S)(.+?)(?<=\S)__")
_ITALIC = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
_BOLD_MARK = "\x00"


def markdown_to_mrkdwn(markdown: str) -> str:
    """Slack mrkdwn for the Markdown the models write: bold, italics, links, headings,
    bullets, quotes and code fences; everything else passes through, escaped."""
    out: list[str] = []
    in_code = False
    for line in markdown.replace("\r\n", "\n").split("\n"):
        if _FENCE.match(line):
            in_code = not in_code
            out.append("```")
            continue
        if in_code:
            out.append(escape(line))
            continue
        out.append(_convert_line(line))
    if in_code:
        out.append("```")
    return "\n".join(out).strip("\n")


def _convert_line(line: str) -> str:
    prefix = ""
    quoted = _QUOTE_PREFIX.match(line)
    if quoted is not None:
        prefix = ">" * quoted.group(1).count(">") + " "
        line = quoted.group(2)
    heading = _HEADING.match(line)
    if heading is not None:
        line = f"**{heading.group(1)}**"
    line = _BULLET.sub(lambda m: m.group(1) + "• ", line)
    links: list[str] = []

    def keep_link(match: re.Match[str]) -> str:
        label = match.group(1).replace("|", "¦")
        links.append(f"<{match.group(2)}|{escape(label)}>")
        return f"\x01{len(links) - 1}\x01"

    line = _LINK.sub(keep_link, line)
    line = escape(line)
    line = _BOLD.sub(lambda m: _BOLD_MARK + (m.group(1) or m.group(2)) + _BOLD_MARK, line)
    line = _ITALIC.sub(r"_\1_", line)
    line = _STRIKE.sub(r"~\1~", line)
    line = line.replace(_BOLD_MARK, "*")
    line = re.sub("\x01(\\d+)\x01", lambda m: links[int(m.group(1))], line)
    return prefix + line


def split_text(text: str, limit: int) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, cut at paragraph, line or word
    boundaries (hard cuts only inside one over-long word); code fences stay balanced."""
    if limit < 16:
        raise ValueError(f"limit {limit} is too small to split text sensibly")
    room = limit - 8  # space to close and reopen a code fence
    pieces: list[str] = []
    rest = text.strip()
    reopen = False
    while rest:
        if reopen:
            rest = "```\n" + rest
        if len(rest) <= room:
            piece, rest = rest, ""
        else:
            cut = _cut_point(rest, room)
            piece, rest = rest[:cut].rstrip(), rest[cut:].lstrip("\n ")
        reopen = piece.count("```") % 2 == 1
        if reopen:
            piece += "\n```"
        if piece.strip():
            pieces.append(piece)
    return pieces


def _cut_point(text: str, room: int) -> int:
    window = text[:room]
    for separator in ("\n\n", "\n", ". ", " "):
        at = window.rfind(separator)
        if at >= room // 3:
            return at + len(separator)
    return room


# -- sources ---------------------------------------------------------------------------------
def source_url(template: str, citation: Citation) -> str:
    """The web address of a cited passage, from a template such as
    ``https://git.example.com/kb/blob/main/{source}#L{line_start}``.

    Placeholders: ``{source}`` (path in the knowledge dir, URL-quoted, slashes kept),
    ``{doc_id}``, ``{heading}`` (URL-quoted), ``{line_start}``, ``{line_end}``.
    Raises KeyError/ValueError/IndexError for a template with other placeholders.
    """
    doc_id = citation.source.removesuffix(".md")
    return template.format(
        source=quote(citation.source, safe="/"),
        doc_id=quote(doc_id, safe="/"),
        heading=quote(citation.heading, safe=""),
        line_start=citation.line_start,
        line_end=citation.line_end,
    )


def _link_label(text: str) -> str:
    return escape(text.replace("|", "¦"))


def _heading_path(heading: str) -> str:
    return heading.replace(" > ", " › ")


def citation_line(citation: Citation, template: str | None) -> str:
    label = citation.source + (f" › {_heading_path(citation.heading)}" if citation.heading else "")
    label = truncate(label, 200)
    if template:
        url = source_url(template, citation)
        if len(url) <= 2_000:
            return f"• <{url}|{_link_label(label)}>"
    return f"• `{escape(citation.source)}`" + (
        f" › {escape(truncate(_heading_path(citation.heading), 180))}" if citation.heading else ""
    )


def _limited_lines(title: str, lines: Sequence[str], limit: int) -> str:
    """``title`` and as many ``lines`` as fit in ``limit`` characters, with a count of the rest."""
    text = title
    for shown, line in enumerate(lines):
        more = f"\n…and {len(lines) - shown} more"
        if len(text) + 1 + len(line) + len(more) > limit:
            return text + more
        text += "\n" + line
    return text


def sources_block(citations: Sequence[Citation], template: str | None) -> Block | None:
    if not citations:
        return None
    lines = [citation_line(c, template) for c in citations[:MAX_SOURCES]]
    if len(citations) > MAX_SOURCES:
        lines.append(f"…and {len(citations) - MAX_SOURCES} more")
    return section(_limited_lines("*Sources*", lines, SECTION_TEXT_MAX))


# -- the answer in the asker's thread --------------------------------------------------------
AnsweredBy = Literal["executor", "frontier", "decline", "reviewer"]


@dataclass(frozen=True)
class AnswerView:
    """An answer to post: the text (Markdown), what it rests on and who answered."""

    question_id: str
    text: str
    citations: Sequence[Citation] = ()
    answered_by: AnsweredBy | None = None
    reviewed_by: str | None = None  # the reviewer's user ID, for answers a person approved
    intro: str | None = None  # e.g. an apology for a delay, shown above the answer
    feedback: bool = True  # 👍/👎 buttons
    ask_human: bool = True  # the "Ask a human" button


_ANSWERED_BY_NOTE: dict[str, str] = {
    "executor": "Answered from the knowledge base by the open model.",
    "frontier": "Answered by the frontier model from the knowledge base.",
    "decline": "",
}


def _answer_trailer(view: AnswerView, template: str | None) -> list[Block]:
    blocks: list[Block] = []
    sources = sources_block(view.citations, template)
    if sources is not None:
        blocks.append(sources)
    if view.reviewed_by:
        note = f"✅ Reviewed and sent by {mention(view.reviewed_by)}."
    else:
        note = _ANSWERED_BY_NOTE.get(view.answered_by or "", "")
    if note:
        blocks.append(context(note))
    buttons: list[Block] = []
    if view.feedback:
        buttons.append(button("👍 Helpful", FEEDBACK_UP, view.question_id))
        buttons.append(button("👎 Not helpful", FEEDBACK_DOWN, view.question_id))
    if view.ask_human:
        buttons.append(button("🙋 Ask a human", ASK_HUMAN, view.question_id))
    if buttons:
        blocks.append({"type": "actions", "block_id": "answer_actions", "elements": buttons})
    return blocks


def answer_messages(
    view: AnswerView, *, source_url_template: str | None = None
) -> list[SlackMessage]:
    """The answer as one or more messages: sections of at most 3,000 characters, at most
    50 blocks per message, sources and buttons on the last; beyond
    :data:`MAX_ANSWER_MESSAGES` messages the answer is cut with a note."""
    body = markdown_to_mrkdwn(view.text[:ANSWER_INPUT_MAX]) or "_(no answer text)_"
    head = [section(escape(view.intro[:SECTION_TEXT_MAX]))] if view.intro else []
    trailer = _answer_trailer(view, source_url_template)
    capacity = MAX_ANSWER_MESSAGES * MAX_BLOCKS - len(trailer) - len(head)
    chunks = split_text(body, SECTION_TEXT_MAX)
    if len(chunks) > capacity:
        chunks = chunks[:capacity]
        last = chunks[-1]
        chunks[-1] = truncate(last, SECTION_TEXT_MAX - len(ANSWER_TRUNCATED_NOTE) - 2) + (
            "\n\n" + ANSWER_TRUNCATED_NOTE
        )
    body_blocks = head + [section(chunk) for chunk in chunks]
    pages = [body_blocks[i : i + MAX_BLOCKS] for i in range(0, len(body_blocks), MAX_BLOCKS)]
    if pages and len(pages[-1]) + len(trailer) <= MAX_BLOCKS:
        pages[-1] = pages[-1] + trailer
    elif trailer:
        pages.append(trailer)
    summary = truncate(_plain_summary(view), FALLBACK_TEXT_MAX)
    return [
        SlackMessage(text=summary if index == 0 else "(answer continued)", blocks=page)
        for index, page in enumerate(pages)
    ]


def _plain_summary(view: AnswerView) -> str:
    text = " ".join(view.text[: 2 * FALLBACK_TEXT_MAX].split()) or "(no answer text)"
    return f"{view.intro} {text}" if view.intro else text


# -- notices in the asker's thread -----------------------------------------------------------
def notice(text: str, *, ask_human_for: str | None = None) -> SlackMessage:
    """A short message; with ``ask_human_for`` (a question ID) it offers "Ask a human"."""
    blocks = [section(text)]
    if ask_human_for is not None:
        blocks.append(
            {
                "type": "actions",
                "block_id": "notice_actions",
                "elements": [button("🙋 Ask a human", ASK_HUMAN, ask_human_for)],
            }
        )
    return SlackMessage(text=truncate(text, FALLBACK_TEXT_MAX), blocks=blocks)


ESCALATED_TEXT: Final = (
    ":busts_in_silhouette: I've passed your question to a specialist, who is reviewing it now. "
    "The answer will be posted here."
)
REJECTED_TEXT: Final = (
    "A teammate will follow up with you about this directly. Thanks for your patience."
)
FAILED_TEXT: Final = (
    ":warning: Sorry, something went wrong while I was answering, and I could not finish. "
    "The problem has been recorded. You can ask again in a moment, or ask a human."
)
BUSY_TEXT: Final = (
    ":hourglass: I'm handling a lot of questions right now and could not take yours. "
    "Please ask again in a few minutes, or ask a human."
)
STALE_TEXT: Final = (
    ":warning: Sorry, I was interrupted while working on your question and it has waited too "
    "long for an automatic answer. Please ask again, or ask a human."
)
DELAYED_INTRO: Final = "Sorry for the delay: I was restarted while working on this."
EMPTY_MENTION_TEXT: Final = (
    "Hi! Ask me a question about our product in this thread (mention me, or message me "
    "directly) and I'll answer from the support knowledge base."
)
REFUSAL_TEXT: Final = (
    "Only reviewers can approve, edit or reject answers, so nothing was changed. "
    "A support lead can add you to SUPPORTBOT_REVIEWERS."
)
NO_REVIEWERS_TEXT: Final = (
    "No reviewers are configured (SUPPORTBOT_REVIEWERS is empty), so nobody can act on "
    "reviews yet; nothing was changed."
)


def already_decided(escalation: Escalation) -> SlackMessage:
    who = f" by {mention(escalation.reviewer)}" if escalation.reviewer else ""
    return notice(f"This escalation was already {escalation.status}{who}; nothing changed.")


# -- the review request in the reviewers' channel ----------------------------------------------
@dataclass(frozen=True)
class ReviewView:
    """An escalation as reviewers see it; its status decides buttons or outcome."""

    escalation: Escalation
    question: Question
    permalink: str | None = None
    passages: Sequence[Passage] = ()


_OUTCOME: dict[str, tuple[str, str]] = {
    "approved": (":white_check_mark:", "Approved and sent"),
    "edited": (":pencil2:", "Edited and sent"),
    "rejected": (":x:", "Rejected"),
    "expired": (":hourglass:", "Expired"),
}


def _asked_line(question: Question, permalink: str | None) -> str:
    who = mention(question.user) if question.user else "Someone"
    if question.thread_ts is None:
        where = "privately with /supportbot" + (
            f" in <#{question.channel}>" if question.channel else ""
        )
    else:
        where = f"in <#{question.channel}>" if question.channel else ""
    link = f" · <{permalink}|view the question>" if permalink and len(permalink) < 1_500 else ""
    return f"*{who}* asked {where}{link}".replace("  ", " ")


def _reasons_text(escalation: Escalation) -> str:
    lines = [
        f"• *{escape(truncate(r.signal, 100))}*: {escape(truncate(r.detail, REASON_MAX))}"
        for r in escalation.reasons[:MAX_REASONS]
    ]
    return _limited_lines("*Why it needs a person*", lines or ["• (no reason recorded)"], 2_900)


def _evidence_text(escalation: Escalation, passages: Sequence[Passage]) -> str:
    lines: list[str] = []
    if escalation.draft is not None:
        for evidence in escalation.draft.evidence[:MAX_EVIDENCE]:
            quote = " ".join(evidence.quote[: QUOTE_MAX * 2].split())
            source = escape(truncate(evidence.source, 200))
            lines.append(f"• `{source}`: “{escape(truncate(quote, QUOTE_MAX))}”")
    for passage in passages[:EVIDENCE_PASSAGES]:
        heading = passage.heading and f" › {escape(truncate(_heading_path(passage.heading), 150))}"
        source = escape(truncate(passage.source, 200))
        lines.append(f"• `{source}`{heading} (score {passage.score:.2f})")
    if not lines:
        lines = ["• (nothing relevant was found in the knowledge base)"]
    return _limited_lines("*Evidence*", lines, 2_900)


def _answer_section(title: str, text: str, *, more_in_thread: bool) -> tuple[Block, bool]:
    """A section with ``title`` and ``text`` (mrkdwn); True when the text was cut."""
    head = text[: 2 * SECTION_TEXT_MAX]
    full = f"{title}\n{markdown_to_mrkdwn(head)}"
    if len(full) <= SECTION_TEXT_MAX and len(head) == len(text):
        return section(full), False
    note = "\n_(shortened here: the full text is in this thread)_" if more_in_thread else ""
    return section(truncate(full, SECTION_TEXT_MAX - len(note)) + note), True


def review_message(view: ReviewView) -> SlackMessage:
    """The review request (pending: with Approve / Edit & send / Reject) or, once decided,
    the same content with the outcome, who and when instead of the buttons. One message."""
    escalation, question = view.escalation, view.question
    category = escalation.category or "uncategorised"
    pending = escalation.status == "pending"
    icon, outcome = _OUTCOME.get(escalation.status, (":mag:", "Review needed"))
    title = f"Review needed: {category}" if pending else f"{outcome}: {category}"
    blocks: list[Block] = [
        {"type": "header", "text": plain(title, HEADER_TEXT_MAX)},
        section(
            _asked_line(question, view.permalink)
            + "\n"
            + quote_lines(escape(truncate(question.text, QUESTION_QUOTE_MAX)))
        ),
        {
            "type": "section",
            "fields": [
                mrkdwn(f"*Category*\n{escape(category)}", SECTION_FIELD_MAX),
                mrkdwn(f"*Asked*\n{slack_date(question.received_at)}", SECTION_FIELD_MAX),
                mrkdwn(
                    "*Best retrieval score*\n"
                    + ("-" if question.top_score is None else f"{question.top_score:.2f}"),
                    SECTION_FIELD_MAX,
                ),
                mrkdwn(f"*Escalation*\n`{escalation.id}`", SECTION_FIELD_MAX),
            ],
        },
        section(_reasons_text(escalation)),
        section(_evidence_text(escalation, view.passages)),
    ]
    proposed = (escalation.proposed_answer or "").strip()
    draft = escalation.draft.draft_response.strip() if escalation.draft else ""
    if draft and draft != proposed:
        block, _ = _answer_section("*Open model draft*", draft, more_in_thread=False)
        blocks.append(block)
    if proposed:
        block, _ = _answer_section(
            "*Proposed answer* (what Approve sends)", proposed, more_in_thread=True
        )
        blocks.append(block)
    else:
        blocks.append(section("*Proposed answer*\n_No draft: use Edit & send to write one._"))
    if pending:
        buttons = (
            [button("Approve", REVIEW_APPROVE, escalation.id, style="primary")] if proposed else []
        )
        buttons.append(button("Edit & send", REVIEW_EDIT, escalation.id))
        buttons.append(button("Reject", REVIEW_REJECT, escalation.id, style="danger"))
        blocks.append({"type": "actions", "block_id": "review_actions", "elements": buttons})
    else:
        blocks.append(section(_outcome_text(escalation, icon, outcome)))
    text = f"{title}: {' '.join(question.text[: 2 * FALLBACK_TEXT_MAX].split())}"
    return SlackMessage(text=truncate(text, FALLBACK_TEXT_MAX), blocks=blocks[:MAX_BLOCKS])


def _outcome_text(escalation: Escalation, icon: str, outcome: str) -> str:
    who = f" by {mention(escalation.reviewer)}" if escalation.reviewer else ""
    when = f" {slack_date(escalation.decided_at)}" if escalation.decided_at else ""
    text = f"{icon} *{outcome}*{who}{when}"
    if escalation.status == "rejected" and escalation.reject_reason:
        text += f"\n*Reason:* {escape(escalation.reject_reason[:SECTION_TEXT_MAX])}"
    if escalation.status == "edited" and escalation.final_answer:
        sent = markdown_to_mrkdwn(escalation.final_answer[:SECTION_TEXT_MAX])
        text += "\n*Sent:*\n" + quote_lines(sent)
    return truncate(text, SECTION_TEXT_MAX, "…")


def review_overflow_messages(view: ReviewView) -> list[SlackMessage]:
    """The full proposed answer as thread replies, when the review message had to cut it."""
    proposed = (view.escalation.proposed_answer or "").strip()
    if not proposed:
        return []
    _, cut = _answer_section(
        "*Proposed answer* (what Approve sends)", proposed, more_in_thread=True
    )
    if not cut:
        return []
    pieces = split_text(markdown_to_mrkdwn(proposed[:ANSWER_INPUT_MAX]), SECTION_TEXT_MAX)
    pages = [pieces[i : i + MAX_BLOCKS - 1] for i in range(0, len(pieces), MAX_BLOCKS - 1)]
    messages = []
    for number, page in enumerate(pages[:MAX_ANSWER_MESSAGES], start=1):
        title = f"*Full proposed answer* (part {number} of {min(len(pages), MAX_ANSWER_MESSAGES)})"
        messages.append(
            SlackMessage(
                text=f"Full proposed answer, part {number}",
                blocks=[section(title)] + [section(p) for p in page],
            )
        )
    return messages


def sla_reminder(waited: timedelta, sla_minutes: int, mentions: Sequence[str]) -> SlackMessage:
    """The reminder in a review thread once an escalation has waited past the SLA."""
    who = ", ".join(mention(m) for m in mentions[:20])
    ask = f"{who}: can someone take this one?" if who else "Can someone take this one?"
    text = (
        f":alarm_clock: This question has waited {duration(waited)} for a review "
        f"(the review SLA is {sla_minutes} min). {ask}"
    )
    return SlackMessage(text=truncate(text, FALLBACK_TEXT_MAX), blocks=[section(text)])


# -- modals ----------------------------------------------------------------------------------
def encode_metadata(**fields: str) -> str:
    """``private_metadata``: the IDs a submission needs, as JSON (ids only: always fits)."""
    data = {key: value[:ID_MAX] for key, value in fields.items()}
    encoded = json.dumps(data, separators=(",", ":"))
    if len(encoded) > PRIVATE_METADATA_MAX:  # pragma: no cover - ids are short by construction
        raise ValueError(f"private_metadata would be {len(encoded)} characters")
    return encoded


def decode_metadata(raw: str | None) -> dict[str, str]:
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) for k, v in data.items() if isinstance(v, str)}


def _modal(
    title: str, callback_id: str, submit: str, blocks: list[Block], metadata: str
) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback_id[:ID_MAX],
        "title": plain(title, MODAL_TITLE_MAX),
        "submit": plain(submit, MODAL_BUTTON_MAX),
        "close": plain("Cancel", MODAL_BUTTON_MAX),
        "private_metadata": metadata,
        "blocks": blocks[:MODAL_MAX_BLOCKS],
    }


def edit_modal(escalation: Escalation, question: Question) -> dict[str, Any]:
    """Edit & send: the proposed answer, editable; submitting sends it to the asker."""
    proposed = (escalation.proposed_answer or "").strip()
    initial = proposed if len(proposed) <= TEXT_INPUT_MAX else truncate(proposed, TEXT_INPUT_MAX)
    element: Block = {
        "type": "plain_text_input",
        "action_id": ANSWER_BLOCK,
        "multiline": True,
        "max_length": TEXT_INPUT_MAX,
        "placeholder": plain("The answer the asker will see", PLACEHOLDER_MAX),
    }
    if initial:
        element["initial_value"] = initial
    hint = "Markdown works: **bold**, [links](https://example.com), bullet lists."
    if initial != proposed:
        hint = "The proposed answer was longer than 3,000 characters and is shortened here. " + hint
    blocks: list[Block] = [
        section("*Question*\n" + quote_lines(escape(truncate(question.text, QUESTION_QUOTE_MAX)))),
        {
            "type": "input",
            "block_id": ANSWER_BLOCK,
            "label": plain("Answer to send", INPUT_LABEL_MAX),
            "hint": plain(hint, INPUT_HINT_MAX),
            "element": element,
        },
    ]
    return _modal(
        "Edit & send", EDIT_CALLBACK, "Send", blocks, encode_metadata(escalation_id=escalation.id)
    )


def reject_modal(escalation: Escalation, question: Question) -> dict[str, Any]:
    """Reject: asks why (kept for the team; the asker is only told a teammate follows up)."""
    blocks: list[Block] = [
        section(
            "*Question*\n"
            + quote_lines(escape(truncate(question.text, QUESTION_QUOTE_MAX)))
            + "\n\nThe asker will be told that a teammate will follow up with them."
        ),
        {
            "type": "input",
            "block_id": REASON_BLOCK,
            "label": plain("Why reject the proposed answer?", INPUT_LABEL_MAX),
            "element": {
                "type": "plain_text_input",
                "action_id": REASON_BLOCK,
                "multiline": True,
                "max_length": TEXT_INPUT_MAX,
                "placeholder": plain("Kept in the audit trail and the digest", PLACEHOLDER_MAX),
            },
        },
    ]
    return _modal(
        "Reject answer",
        REJECT_CALLBACK,
        "Reject",
        blocks,
        encode_metadata(escalation_id=escalation.id),
    )


def input_value(view: dict[str, Any], block_id: str) -> str:
    """What was typed into the input ``block_id`` of a submitted view ("" when empty)."""
    values = (view.get("state") or {}).get("values") or {}
    entry = (values.get(block_id) or {}).get(block_id) or {}
    value = entry.get("value")
    return value if isinstance(value, str) else ""


# -- slash command answers ----------------------------------------------------------------------
@dataclass(frozen=True)
class StatusView:
    """What ``/supportbot status`` reports."""

    documents: int | None
    chunks: int | None
    generation: int | None
    embedder: str | None
    index_problem: str | None
    pending_escalations: int
    oldest_pending: timedelta | None
    unfinished_questions: int
    running: int
    queued: int
    workers: int
    executor: str
    escalator: str | None
    policy_problem: str | None = None


def status_message(view: StatusView) -> SlackMessage:
    if view.index_problem is not None:
        index = f"*Index*\n:warning: {escape(view.index_problem)}"
    else:
        index = (
            f"*Index*\n{view.documents} documents, {view.chunks} chunks, "
            f"generation {view.generation}\nembedder `{escape(view.embedder or '?')}`"
        )
    oldest = f" (oldest waiting {duration(view.oldest_pending)})" if view.oldest_pending else ""
    queue = (
        f"*Queue*\n{view.pending_escalations} escalations waiting for a reviewer{oldest}\n"
        f"{view.unfinished_questions} questions in flight "
        f"({view.running} being answered here, {view.queued} queued, {view.workers} workers)"
    )
    models = f"*Models*\nopen model `{escape(view.executor)}`\nfrontier " + (
        f"`{escape(view.escalator)}`"
        if view.escalator
        else "not configured (escalations go to people)"
    )
    blocks = [
        {"type": "header", "text": plain("supportbot status", HEADER_TEXT_MAX)},
        section(index),
        section(queue),
        section(models),
    ]
    if view.policy_problem:
        blocks.append(
            section(
                ":warning: *The policy file has an error*; the last good policy is in force.\n"
                + escape(truncate(view.policy_problem, 2_500))
            )
        )
    summary = (
        f"{view.pending_escalations} escalations waiting, "
        f"{view.unfinished_questions} questions in flight"
    )
    return SlackMessage(text=summary, blocks=blocks)


HELP_TEXT: Final = (
    "*supportbot* answers questions from the support knowledge base.\n"
    "• `/supportbot ask <question>` (or just `/supportbot <question>`): an answer only you see\n"
    "• `/supportbot status`: the index and the review queue\n"
    "• `/supportbot reindex`: re-read the knowledge base now (reviewers only)\n"
    "• `/supportbot help`: this message\n"
    "Mention me in a channel or message me directly for an answer in a thread."
)


def help_message() -> SlackMessage:
    return SlackMessage(text="supportbot help", blocks=[section(HELP_TEXT)])


def reindex_message(
    *,
    added: int,
    updated: int,
    removed: int,
    unchanged: int,
    chunks: int,
    seconds: float,
    failed: Sequence[tuple[str, str]],
) -> SlackMessage:
    text = (
        f":books: Reindex done in {seconds:.1f} s: {added} added, {updated} updated, "
        f"{removed} removed, {unchanged} unchanged; {chunks} chunks in the index."
    )
    blocks = [section(text)]
    if failed:
        lines = [f"• `{escape(path)}`: {escape(truncate(error, 300))}" for path, error in failed]
        blocks.append(section(_limited_lines(f"*{len(failed)} files failed*", lines, 2_900)))
    return SlackMessage(text=text, blocks=blocks)
