"""The command line. Settings are read here, once; errors become friendly text only here."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console

from supportbot.errors import SupportBotError
from supportbot.settings import Settings

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


def main() -> None:
    """Console-script entry point: domain errors become one clear line and exit code 2."""
    try:
        app()
    except SupportBotError as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
