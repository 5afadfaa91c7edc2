"""``supportbot ask`` and ``supportbot eval routing`` on embedded defaults (offline executor)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pipeline_support import write_policies
from typer.testing import CliRunner

from supportbot.cli import app

runner = CliRunner()


@pytest.fixture
def cli_env(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch, knowledge_dir: Path, index_dir: Path
) -> Path:
    """Embedded defaults: no Ollama, no Anthropic; the module's index, a fresh store."""
    monkeypatch.setenv("SUPPORTBOT_KNOWLEDGE_DIR", str(knowledge_dir))
    monkeypatch.setenv("SUPPORTBOT_POLICIES_DIR", str(write_policies(isolated_env / "policies")))
    monkeypatch.setenv("SUPPORTBOT_DATA_DIR", str(index_dir))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{isolated_env}/store.db")
    return isolated_env


def test_ask_json_has_the_documented_keys(cli_env: Path) -> None:
    result = runner.invoke(app, ["ask", "How long is the password reset link valid?", "--json"])

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert {"route", "category", "answer", "citations", "reasons"} <= set(document)
    assert document["route"] in ("answer", "frontier", "human")
    assert document["citations"]
    assert set(document["citations"][0]) == {"source", "heading", "score"}
    assert document["citations"][0]["source"] == "accounts/password-reset.md"
    for reason in document["reasons"]:
        assert set(reason) == {"signal", "detail"}
    # Embedded defaults: the offline executor answers or hands over, never calls a model.
    assert document["timings"]["frontier_ms"] == 0
    if document["route"] == "answer":
        assert "without a language model" in document["answer"]


def test_ask_without_an_index_says_how_to_build_it(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch, knowledge_dir: Path
) -> None:
    monkeypatch.setenv("SUPPORTBOT_KNOWLEDGE_DIR", str(knowledge_dir))
    monkeypatch.setenv("SUPPORTBOT_POLICIES_DIR", str(write_policies(isolated_env / "policies")))
    monkeypatch.setenv("SUPPORTBOT_DATA_DIR", str(isolated_env / "empty"))

    result = runner.invoke(app, ["ask", "hello?"])

    assert result.exit_code != 0
    assert "supportbot index" in str(result.exception)


def test_eval_routing_json_with_and_without_the_model(cli_env: Path) -> None:
    data = cli_env / "routing.jsonl"
    rows = [
        {"text": "I opened a chargeback with my bank", "escalate": True, "category": "refund"},
        {"text": "how do I reset my password", "escalate": False, "category": "routine"},
        {"text": "best banana bread recipe?", "escalate": False, "category": "out_of_scope"},
    ]
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")

    pre = runner.invoke(app, ["eval", "routing", str(data), "--no-model", "--json"])
    full = runner.invoke(app, ["eval", "routing", str(data), "--json"])

    for outcome in (pre, full):
        assert outcome.exit_code == 0, outcome.output
        metrics = json.loads(outcome.stdout)
        assert metrics["n"] == 3
        assert {"recall", "precision", "false_escalation_rate", "seconds_per_question"} <= set(
            metrics
        )
        assert set(metrics["per_category"]) == {"refund", "routine", "out_of_scope"}
        assert metrics["per_category"]["refund"] == {"n": 1, "recall": 1.0, "declined": 0.0}
        assert metrics["confusion"]["out_of_scope"]["declined"] == 1
        assert metrics["recall"] == 1.0
    assert json.loads(pre.stdout)["stage"] == "pre_model"
    assert json.loads(full.stdout)["stage"] == "pipeline"
    # Evaluation questions never reach the production store.
    assert not (cli_env / "store.db").exists()
