"""`supportbot index | retrieve | eval retrieval`: the --json documents and the human output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from retrieval_helpers import write_kb
from typer.testing import CliRunner

from supportbot.cli import app

pytestmark = pytest.mark.usefixtures("isolated_env")


def run(*args: str, env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def dirs(kb: Path, tmp_path: Path) -> list[str]:
    write_kb(kb, {"bad.md": b"\xff\xfe\x00"})
    return ["--knowledge", str(kb), "--data-dir", str(tmp_path / "data")]


def test_index_json_document(dirs: list[str]) -> None:
    first = json.loads(run("index", "--json", *dirs))
    again = json.loads(run("index", "--json", *dirs))
    full = json.loads(run("index", "--full", "--json", *dirs))

    for doc in (first, again, full):
        assert {"added", "updated", "removed", "unchanged", "failed", "chunks", "seconds"} <= set(
            doc
        )
        assert doc["failed"] == [{"path": "bad.md", "error": doc["failed"][0]["error"]}]
        assert "binary" in doc["failed"][0]["error"]
        assert doc["chunks"] == 6
        assert isinstance(doc["seconds"], float)
    assert (first["added"], first["unchanged"]) == (3, 0)
    assert (again["added"], again["unchanged"], again["embedded_chunks"]) == (0, 3, 0)
    assert (full["updated"], full["embedded_chunks"]) == (3, 6)


def test_retrieve_json_document_and_table(dirs: list[str]) -> None:
    run("index", *dirs)

    doc = json.loads(run("retrieve", "my SAML certificate expired", "--k", "2", "--json", *dirs))
    table = run("retrieve", "my SAML certificate expired", *dirs)

    assert len(doc["results"]) == 2
    top = doc["results"][0]
    assert {"source", "heading", "score", "text"} <= set(top)
    assert top["source"] == "accounts/sso.md"
    assert top["heading"].startswith("Single sign-on")
    assert all(0.0 <= r["score"] <= 1.0 for r in doc["results"])
    assert "accounts/sso.md:" in table
    assert "score" in table


def test_eval_retrieval_json_document(dirs: list[str], tmp_path: Path) -> None:
    labelled = tmp_path / "eval.jsonl"
    labelled.write_text(
        "\n".join(
            json.dumps(line)
            for line in [
                {"query": "money back for a yearly plan", "relevant": ["billing/refunds"]},
                {
                    "query": "SCIM provisioning with my identity provider",
                    "relevant": ["accounts/sso"],
                },
                {
                    "query": "download all my projects as a spreadsheet",
                    "relevant": ["data/export.md"],
                },
            ]
        )
    )
    run("index", *dirs)

    doc = json.loads(run("eval", "retrieval", str(labelled), "--k", "2", "--json", *dirs))
    human = run("eval", "retrieval", str(labelled), *dirs)

    assert {"n", "k", "recall_at_k", "hit_at_k", "mrr", "latency_ms"} <= set(doc)
    assert (doc["n"], doc["k"]) == (3, 2)
    assert set(doc["latency_ms"]) == {"p50", "p95"}
    assert doc["latency_ms"]["p50"] <= doc["latency_ms"]["p95"]
    assert doc["hit_at_k"] == 1.0
    assert doc["unknown_relevant"] == []
    assert "recall@5" in human


def test_retrieve_before_indexing_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["retrieve", "anything", "--data-dir", str(tmp_path / "none")], env=None
    )

    assert result.exit_code != 0
    assert "supportbot index" in str(result.exception)
