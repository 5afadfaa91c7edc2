"""The command line. Settings are read here, once; errors become friendly text only here."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console

from supportbot.errors import SupportBotError
from supportbot.settings import Settings

if TYPE_CHECKING:
    from supportbot.pipeline.types import PipelineResult
    from supportbot.routing.evaluation import LabelledQuestion, RoutingMetrics
    from supportbot.routing.types import Decision
    from supportbot.services import Services

app = typer.Typer(
    name="supportbot",
    help="A Slack support bot that answers from your knowledge base and knows when to escalate.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
eval_app = typer.Typer(help="Measure retrieval and routing quality on labelled data.")
app.add_typer(eval_app, name="eval")

console = Console(stderr=True)

# -- options every command takes ----------------------------------------------------
KnowledgeOpt = Annotated[
    Path | None,
    typer.Option("--knowledge", help="Knowledge dir [env: SUPPORTBOT_KNOWLEDGE_DIR]"),
]
PoliciesOpt = Annotated[
    Path | None,
    typer.Option("--policies", help="Policies dir [env: SUPPORTBOT_POLICIES_DIR]"),
]
DataDirOpt = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Index and database dir [env: SUPPORTBOT_DATA_DIR]"),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document to stdout.")]


def load_settings(
    knowledge: Path | None, policies: Path | None, data_dir: Path | None, **overrides: Any
) -> Settings:
    """Build the settings once: environment and ``.env``, then command-line flags."""
    values: dict[str, Any] = {k: v for k, v in overrides.items() if v is not None}
    if knowledge is not None:
        values["knowledge_dir"] = knowledge
    if policies is not None:
        values["policies_dir"] = policies
    if data_dir is not None:
        values["data_dir"] = data_dir
    try:
        return Settings(**values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise SupportBotError(f"invalid settings: {problems}") from exc


def print_json(document: BaseModel | dict[str, Any]) -> None:
    """Print exactly one JSON document to stdout."""
    if isinstance(document, BaseModel):
        text = document.model_dump_json(indent=2)
    else:
        text = json.dumps(document, indent=2, default=str)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


# -- retrieval: index, retrieve, eval retrieval --------------------------------------
ModeOpt = Annotated[
    str,
    typer.Option("--mode", help="Ranking: hybrid (BM25 + vector, default), vector or lexical."),
]
_PROGRESS_MIN_CHUNKS = 32


@app.command()
def index(
    *,
    full: Annotated[
        bool, typer.Option("--full", help="Re-chunk and re-embed everything (new embedder).")
    ] = False,
    as_json: JsonOpt = False,
    knowledge: KnowledgeOpt = None,
    policies: PoliciesOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Incrementally (re)index the knowledge dir: only new and changed files are embedded."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from supportbot.retrieval import build_embedder, open_index

    settings = load_settings(knowledge, policies, data_dir)
    knowledge_index = open_index(settings, build_embedder(settings))
    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=as_json,
    )
    task = bar.add_task("Embedding chunks", total=None, visible=False)

    def on_progress(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total, visible=total >= _PROGRESS_MIN_CHUNKS)

    with bar:
        report = knowledge_index.update(settings.knowledge_dir, full=full, progress=on_progress)
    if as_json:
        print_json(report)
        return
    out = Console()
    out.print(
        f"[bold]{report.added}[/] added, [bold]{report.updated}[/] updated, "
        f"[bold]{report.removed}[/] removed, [bold]{report.unchanged}[/] unchanged, "
        f"[bold]{len(report.failed)}[/] failed - {report.chunks} chunks in the index "
        f"({report.embedded_chunks} embedded) in {report.seconds:.2f} s",
        highlight=False,
    )
    for failed in report.failed:
        out.print(f"  [red]failed[/] {failed.path}: {failed.error}", highlight=False)


@app.command()
def retrieve(
    query: Annotated[str, typer.Argument(help="What to search the knowledge base for.")],
    *,
    k: Annotated[int | None, typer.Option("--k", min=1, help="Passages to return.")] = None,
    mode: ModeOpt = "hybrid",
    as_json: JsonOpt = False,
    knowledge: KnowledgeOpt = None,
    policies: PoliciesOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Ranked passages for QUERY, with source, heading, lines and score (cosine, 0-1)."""
    from rich.table import Table

    from supportbot.retrieval import build_embedder, build_retriever

    settings = load_settings(knowledge, policies, data_dir)
    retriever = build_retriever(settings, build_embedder(settings), mode=_search_mode(mode))
    result = retriever.retrieve(query, k or settings.retrieval_k)
    if as_json:
        print_json(
            {
                "query": result.query,
                "results": [
                    {
                        "source": p.source,
                        "doc_id": p.doc_id,
                        "heading": p.heading,
                        "line_start": p.line_start,
                        "line_end": p.line_end,
                        "score": round(p.score, 4),
                        "text": p.text,
                    }
                    for p in result.passages
                ],
                "seconds": round(result.seconds, 4),
            }
        )
        return
    out = Console()
    if not result.passages:
        out.print("No passages found.")
        return
    table = Table(show_lines=True, title=f"{query}", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("score", justify="right")
    table.add_column("source", overflow="fold", min_width=16)
    table.add_column("heading", overflow="fold", max_width=32)
    table.add_column("text", ratio=1)
    for rank, p in enumerate(result.passages, start=1):
        excerpt = " ".join(p.text.split())
        table.add_row(
            str(rank),
            f"{p.score:.2f}",
            f"{p.source}:{p.line_start}-{p.line_end}",
            p.heading or "-",
            excerpt if len(excerpt) <= 240 else excerpt[:237] + "...",
        )
    out.print(table)


@eval_app.command("retrieval")
def eval_retrieval(
    file: Annotated[
        Path, typer.Argument(help='JSON lines {"query", "relevant": [doc ids]}', exists=True)
    ],
    *,
    k: Annotated[int, typer.Option("--k", min=1, help="Cut-off for the metrics.")] = 5,
    mode: ModeOpt = "hybrid",
    as_json: JsonOpt = False,
    knowledge: KnowledgeOpt = None,
    policies: PoliciesOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Recall@k, hit@k, MRR and latency of document retrieval on labelled questions."""
    from rich.table import Table

    from supportbot.retrieval import build_embedder, build_retriever
    from supportbot.retrieval.evaluation import (
        evaluate_rankings,
        load_labelled_queries,
        normalise_doc_id,
    )

    settings = load_settings(knowledge, policies, data_dir)
    queries = load_labelled_queries(file)
    retriever = build_retriever(settings, build_embedder(settings), mode=_search_mode(mode))
    indexed = set(retriever.index.snapshot().manifest)
    unknown = sorted(
        {normalise_doc_id(d) for q in queries for d in q.relevant} - indexed,
    )
    retriever.rank_documents(queries[0].query, k)  # warm-up: loads the vector and BM25 indexes
    metrics = evaluate_rankings(
        lambda query, n: [hit.doc_id for hit in retriever.rank_documents(query, n)], queries, k
    )
    if as_json:
        print_json({**metrics.model_dump(), "mode": mode, "unknown_relevant": unknown})
        return
    out = Console()
    table = Table(
        title=f"retrieval ({mode}) on {file} - {metrics.n} questions", title_justify="left"
    )
    for column in (f"recall@{k}", f"hit@{k}", "MRR", "p50 ms", "p95 ms"):
        table.add_column(column, justify="right")
    table.add_row(
        f"{metrics.recall_at_k:.3f}",
        f"{metrics.hit_at_k:.3f}",
        f"{metrics.mrr:.3f}",
        f"{metrics.latency_ms.p50:.1f}",
        f"{metrics.latency_ms.p95:.1f}",
    )
    out.print(table)
    if unknown:
        console.print(
            f"[yellow]warning:[/] {len(unknown)} labelled doc ids are not in the index: "
            + ", ".join(unknown),
            highlight=False,
        )


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, as a user would ask it.")],
    *,
    as_json: JsonOpt = False,
    knowledge: KnowledgeOpt = None,
    policies: PoliciesOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """The whole pipeline without Slack: route, answer, citations and the reasons."""
    from supportbot.services import Services
    from supportbot.store import NewQuestion

    settings = load_settings(knowledge, policies, data_dir)
    with Services.build(settings) as services:
        _require_index(services)
        result = services.pipeline.ask(NewQuestion(source="cli", text=question))
    if as_json:
        print_json(result.json_document())
        return
    _print_result(result)


def _require_index(services: Services) -> None:
    """Fail early, with the fix, when there is no index yet (raises IndexNotBuilt)."""
    services.index.snapshot()


def _print_result(result: PipelineResult) -> None:
    from rich.markdown import Markdown
    from rich.panel import Panel

    out = Console()
    route_style = {"answer": "green", "frontier": "yellow", "human": "red"}[result.route]
    title = f"route [bold {route_style}]{result.route}[/]"
    if result.category:
        title += f"  category [bold]{result.category}[/]"
    if result.declined:
        title += "  (declined: off-topic)"
    out.print(title)
    if result.answer is not None:
        by = {"executor": "open model", "frontier": "frontier model", "decline": "decline"}
        out.print(
            Panel(Markdown(result.answer), title=f"answer ({by.get(result.answered_by or '', '')})")
        )
    else:
        out.print("[bold]Waiting for a human reviewer.[/] The proposed answer:")
        out.print(Panel(Markdown(result.proposed_answer or "(no draft)"), title="proposed"))
    if result.citations:
        out.print("[bold]Sources[/]")
        for c in result.citations:
            out.print(
                f"  {c.source}:{c.line_start}-{c.line_end}  {c.heading or '-'}  ({c.score:.2f})",
                highlight=False,
            )
    if result.reasons:
        out.print("[bold]Reasons[/]")
        for r in result.reasons:
            out.print(f"  [cyan]{r.signal}[/]: {r.detail}", highlight=False)
    t = result.timings
    out.print(
        f"[dim]{t.total_ms:.0f} ms (retrieve {t.retrieve_ms:.0f}, route {t.route_ms:.0f}, "
        f"executor {t.executor_ms:.0f}, frontier {t.frontier_ms:.0f})[/]",
        highlight=False,
    )


@app.command()
def serve(
    *,
    port: Annotated[
        int | None,
        typer.Option("--port", min=1, max=65535, help="HTTP mode port [env: PORT, default 3000]"),
    ] = None,
    host: Annotated[str, typer.Option("--host", help="HTTP mode interface.")] = "0.0.0.0",
    knowledge: KnowledgeOpt = None,
    policies: PoliciesOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Run the Slack app and the scheduler: Socket Mode when SLACK_APP_TOKEN is set, else
    HTTP on --port (POST /slack/events, signed requests only)."""
    import logging

    from supportbot.slack.serve import serve as run_server

    settings = load_settings(knowledge, policies, data_dir, port=port)
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    run_server(settings, host=host, on_ready=lambda where: console.print(where, highlight=False))


@eval_app.command("routing")
def eval_routing(
    file: Annotated[
        Path, typer.Argument(help='JSON lines {"text", "escalate": bool, "category"}', exists=True)
    ],
    *,
    no_model: Annotated[
        bool, typer.Option("--no-model", help="Only the routing before any model call.")
    ] = False,
    as_json: JsonOpt = False,
    knowledge: KnowledgeOpt = None,
    policies: PoliciesOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Recall and precision of escalation, false-escalation rate, per category, confusion."""
    import tempfile

    from supportbot.routing.evaluation import load_labelled_questions
    from supportbot.services import Services

    settings = load_settings(knowledge, policies, data_dir)
    rows = load_labelled_questions(file)
    # Evaluation questions must not land in the production store (or its digest).
    with tempfile.TemporaryDirectory(prefix="supportbot-eval-") as scratch:
        eval_settings = settings.model_copy(update={"database_url": f"sqlite:///{scratch}/eval.db"})
        with Services.build(eval_settings, escalator=None, call_frontier=False) as services:
            _require_index(services)
            metrics = _evaluate_routing(services, rows, no_model=no_model)
    if as_json:
        print_json(metrics)
        return
    _print_routing_metrics(metrics, file)


def _evaluate_routing(
    services: Services, rows: Sequence[LabelledQuestion], *, no_model: bool
) -> RoutingMetrics:
    import time

    from supportbot.routing.evaluation import evaluate_pre_model, routing_metrics
    from supportbot.store import NewQuestion

    if no_model:
        metrics, _ = evaluate_pre_model(
            rows,
            retriever=services.retriever,
            embedder=services.embedder,
            policy=services.policies.current().policy,
            k=services.settings.retrieval_k,
        )
        return metrics
    from rich.progress import Progress

    decisions: list[Decision] = []
    started = time.perf_counter()
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("routing", total=len(rows))
        for row in rows:
            result = services.pipeline.ask(NewQuestion(source="eval", text=row.text))
            decisions.append(_decision_of(result))
            bar.advance(task)
    return routing_metrics(rows, decisions, seconds=time.perf_counter() - started, stage="pipeline")


def _decision_of(result: PipelineResult) -> Decision:
    from supportbot.routing.types import Decision

    return Decision(
        route=result.route,
        category=result.category,
        reasons=result.reasons,
        declined=result.declined,
    )


def _print_routing_metrics(metrics: RoutingMetrics, file: Path) -> None:
    from rich.table import Table

    out = Console()

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}"

    out.print(
        f"[bold]routing ({metrics.stage}) on {file}[/] - {metrics.n} questions, "
        f"{metrics.seconds_per_question * 1000:.1f} ms/question",
        highlight=False,
    )
    out.print(
        f"escalation recall {pct(metrics.recall)}  precision {pct(metrics.precision)}  "
        f"false-escalation rate {pct(metrics.false_escalation_rate)}  "
        f"declined {metrics.declined_rate:.3f}",
        highlight=False,
    )
    table = Table(title="per category (recall = routed as labelled)", title_justify="left")
    table.add_column("category")
    table.add_column("n", justify="right")
    table.add_column("recall", justify="right")
    for column in ("answer", "frontier", "human", "declined"):
        table.add_column(column, justify="right")
    for name, cat in metrics.per_category.items():
        row = metrics.confusion.get(name, {})
        table.add_row(
            name,
            str(cat.n),
            f"{cat.recall:.3f}",
            *(str(row.get(c, 0)) for c in ("answer", "frontier", "human", "declined")),
        )
    out.print(table)


@app.command()
def digest(
    *,
    day: Annotated[
        str | None,
        typer.Option(
            "--date",
            metavar="YYYY-MM-DD",
            help="The local day to report on [default: yesterday in SUPPORTBOT_TIMEZONE].",
        ),
    ] = None,
    post: Annotated[
        bool,
        typer.Option(
            "--post",
            help="Post it to SUPPORTBOT_DIGEST_CHANNEL, with the chart in the thread.",
        ),
    ] = False,
    as_json: JsonOpt = False,
    knowledge: KnowledgeOpt = None,
    policies: PoliciesOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """The daily escalation digest, printed (and the chart written), or posted to Slack."""
    import datetime as dt

    from supportbot.clock import SystemClock
    from supportbot.errors import ConfigurationError
    from supportbot.jobs.digest import (
        DigestConfig,
        build_digest,
        default_day,
        run_daily_digest,
        write_chart,
    )
    from supportbot.jobs.digest_render import render_digest
    from supportbot.retrieval import build_embedder
    from supportbot.routing.policy import load_policy
    from supportbot.slack.gateway import WebClientGateway
    from supportbot.store import open_store

    settings = load_settings(knowledge, policies, data_dir)
    poster = None
    if post:
        if not settings.digest_channel:
            raise ConfigurationError(
                "SUPPORTBOT_DIGEST_CHANNEL", "is not set; --post needs the channel to post to"
            )
        poster = WebClientGateway.from_settings(settings)  # names SLACK_BOT_TOKEN if missing
    try:
        chosen = dt.date.fromisoformat(day) if day is not None else None
    except ValueError:
        raise typer.BadParameter(
            f"{day!r} is not a date like 2026-03-10", param_hint="--date"
        ) from None
    min_score = load_policy(settings.policies_dir).thresholds.min_retrieval_score
    config = DigestConfig.from_settings(settings, min_retrieval_score=min_score)
    clock = SystemClock()
    chosen = chosen or default_day(clock, settings.timezone)
    embedder = build_embedder(settings)
    with open_store(settings, clock) as store:
        if poster is not None:  # the job's own path: build, draw, post, audit
            run = run_daily_digest(
                store=store,
                embedder=embedder,
                config=config,
                poster=poster,
                channel=settings.digest_channel,
                clock=clock,
                day=chosen,
            )
            report, chart, posted = run.digest, run.chart, run.posted
        else:
            report = build_digest(store, embedder, config, day=chosen, now=clock.now())
            chart, posted = write_chart(report, config.chart_dir), None
    if as_json:
        document = report.model_dump(mode="json")
        document["empty"] = report.empty
        document["chart"] = str(chart)
        document["posted"] = None if posted is None else posted.model_dump()
        print_json(document)
        return
    out = Console()
    out.print(render_digest(report))
    out.print(f"\nChart written to {chart}", highlight=False, soft_wrap=True)
    if posted is not None:
        out.print(
            f"Posted to {settings.digest_channel} ({posted.channel}, ts {posted.ts}), "
            "with the chart in the thread.",
            highlight=False,
            soft_wrap=True,
        )


@app.command()
def demo(
    *,
    knowledge: KnowledgeOpt = None,
    policies: PoliciesOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """A scripted end-to-end run of the real Slack app against a fake Slack workspace.

    On embedded defaults: no Slack, Ollama or Anthropic account needed (the frontier model
    is used when ANTHROPIC_API_KEY is set). Index and store go to DATA_DIR/demo."""
    from supportbot.demo import run_demo

    settings = load_settings(knowledge, policies, data_dir)
    run_demo(settings, console=Console(highlight=False))


def _search_mode(value: str) -> Any:
    from supportbot.retrieval.search import SearchMode

    try:
        return SearchMode(value.strip().lower())
    except ValueError:
        choices = ", ".join(m.value for m in SearchMode)
        raise typer.BadParameter(f"unknown mode {value!r}; choose one of {choices}") from None


def main() -> None:
    """Console-script entry point: domain errors become one clear line and exit code 2."""
    try:
        app()
    except SupportBotError as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
