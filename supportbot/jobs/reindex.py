"""The nightly reindex job: bring the index in line with ``knowledge/`` and say what changed.

Whoever edited the knowledge base should see the effect of the edit, so a run that added,
updated or removed files, or failed to read some, posts a short report to the digest
channel: the files by change, and each failure with its file and error. A run that changed
nothing posts nothing. Every run is logged and written to the audit log (``job.reindex``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ConfigDict, JsonValue

from supportbot.errors import describe_exception
from supportbot.jobs.blocks import (
    JobMessage,
    bullet_list,
    context,
    escape,
    fit,
    header,
    one_line,
    sections,
    truncate,
)
from supportbot.jobs.posting import PostedMessage, SlackPoster, posted_message
from supportbot.retrieval.types import IndexReport
from supportbot.store.protocol import AuditLog

log = logging.getLogger(__name__)

#: Paths listed per kind of change; the rest is counted ("… and 12 more").
MAX_PATHS_LISTED = 15
#: Failures listed with their error; the rest is counted.
MAX_FAILURES_LISTED = 15
#: An error message longer than this is cut (a parser's message can quote a whole line).
MAX_ERROR_CHARS = 300

AUDIT_KIND = "job.reindex"


class Indexer(Protocol):
    """What the job needs of :class:`~supportbot.retrieval.index.KnowledgeIndex`."""

    def update(self, knowledge_dir: Path) -> IndexReport: ...


class ReindexOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid")

    report: IndexReport
    posted: PostedMessage | None = None


def run_reindex(
    index: Indexer,
    knowledge_dir: Path,
    *,
    audit: AuditLog,
    poster: SlackPoster | None,
    channel: str | None,
) -> ReindexOutcome:
    """Run the incremental index; post the report when something changed or failed.

    Without a poster or a channel the report is only logged. An index run that fails as a
    whole is audited, reported to the channel (if any) and re-raised; a failed post is
    audited and re-raised (the index itself is then up to date).
    """
    try:
        report = index.update(knowledge_dir)
    except Exception as exc:
        error = describe_exception(exc)
        log.exception("reindex of %s failed", knowledge_dir)
        audit.record_audit(AUDIT_KIND, details={"ok": False, "error": error})
        if poster is not None and channel:
            message = reindex_failed_message(str(knowledge_dir), error)
            try:
                poster.post_message(channel, message.text, message.blocks)
            except Exception:  # the index failure is the error to raise, not the post's
                log.exception("could not report the failed reindex to %s", channel)
        raise

    details: dict[str, JsonValue] = {
        "ok": True,
        "added": report.added,
        "updated": report.updated,
        "removed": report.removed,
        "unchanged": report.unchanged,
        "failed": [f.path for f in report.failed],
        "chunks": report.chunks,
        "seconds": report.seconds,
    }
    if not report.changed:
        log.info("reindex: nothing changed (%d files, %d chunks)", report.unchanged, report.chunks)
        audit.record_audit(AUDIT_KIND, details={**details, "posted": False})
        return ReindexOutcome(report=report)

    log.info(
        "reindex: %d added, %d updated, %d removed, %d failed",
        report.added,
        report.updated,
        report.removed,
        len(report.failed),
    )
    for failed in report.failed:
        log.warning("reindex: %s failed: %s", failed.path, failed.error)
    if poster is None or not channel:
        log.warning("reindex: no digest channel configured; the report is not posted")
        audit.record_audit(AUDIT_KIND, details={**details, "posted": False})
        return ReindexOutcome(report=report)

    message = reindex_report_message(report)
    try:
        posted = posted_message(poster.post_message(channel, message.text, message.blocks))
    except Exception as exc:
        audit.record_audit(AUDIT_KIND, details={**details, "posted": False, "post_error": str(exc)})
        raise
    audit.record_audit(AUDIT_KIND, details={**details, "posted": True, "ts": posted.ts})
    return ReindexOutcome(report=report, posted=posted)


# -- Block Kit (pure) ------------------------------------------------------------------------
def reindex_report_message(report: IndexReport) -> JobMessage:
    """The report of a run that changed or failed something."""
    counts = [
        f"{report.added} added",
        f"{report.updated} updated",
        f"{report.removed} removed",
    ]
    if report.failed:
        counts.append(f"{len(report.failed)} failed")
    summary = ", ".join(counts)
    title = "Knowledge index updated" if not report.failed else "Knowledge index: some files failed"
    lines: list[str] = []
    for label, paths in (
        ("Added", report.added_paths),
        ("Updated", report.updated_paths),
        ("Removed", report.removed_paths),
    ):
        if paths:
            lines.append(f"*{label}* ({len(paths)})")
            lines.extend(
                bullet_list(
                    (f"`{escape(one_line(p))}`" for p in sorted(paths)), limit=MAX_PATHS_LISTED
                )
            )
    if report.failed:
        lines.append(
            f"*Failed* ({len(report.failed)}) — these files are not in the index; fix them "
            "and the next run picks them up"
        )
        lines.extend(
            bullet_list(
                (
                    f"`{escape(one_line(f.path))}`: "
                    f"{escape(truncate(one_line(f.error), MAX_ERROR_CHARS))}"
                    for f in sorted(report.failed, key=lambda f: f.path)
                ),
                limit=MAX_FAILURES_LISTED,
            )
        )
    blocks = [
        header(title),
        *sections(f"{summary}.\n" + "\n".join(lines)),
        context(
            f"{report.unchanged} unchanged · {report.chunks} chunks in the index · "
            f"{report.embedded_chunks} embedded · {report.seconds:.1f} s"
        ),
    ]
    return JobMessage(text=f"{title}: {summary}", blocks=fit(blocks))


def reindex_failed_message(knowledge_dir: str, error: str) -> JobMessage:
    """The run failed as a whole (the last good index stays in force)."""
    text = f"Knowledge index update failed: {truncate(one_line(error), MAX_ERROR_CHARS)}"
    blocks = [
        header("Knowledge index update failed"),
        *sections(
            f"Reindexing `{escape(knowledge_dir)}` failed; the last good index stays in "
            f"force.\n```{escape(truncate(error, 2_000))}```"
        ),
    ]
    return JobMessage(text=text, blocks=fit(blocks))
