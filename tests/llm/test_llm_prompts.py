"""Prompt templates: the shipped ones load and render; broken ones fail naming the file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from llm_samples import REPO_POLICIES

from supportbot.errors import PolicyError
from supportbot.llm.prompts import load_escalator_prompt, load_executor_prompt, load_prompt


def test_shipped_executor_prompt_renders_schema_and_drops_editor_comments() -> None:
    template = load_executor_prompt(REPO_POLICIES)

    text = template.render(draft_schema='{"type": "object"}')

    assert template.placeholders == {"draft_schema"}
    assert '{"type": "object"}' in text
    assert "{{" not in text
    assert "<!--" not in text
    assert "Support leads" not in text
    # The lane, the stop conditions and the cheap escalation are what the prompt is for.
    for phrase in ("Stop conditions", "never held against you", "word for word", "JSON"):
        assert phrase in text


def test_shipped_escalator_prompt_names_the_tool_and_both_decisions() -> None:
    text = load_escalator_prompt(REPO_POLICIES).render(tool_name="record_decision")

    assert "`record_decision`" in text
    assert '"answer"' in text
    assert '"needs_human"' in text
    assert "{{" not in text
    assert "<!--" not in text


def _copy_policies(tmp_path: Path) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(REPO_POLICIES / "prompts", target / "prompts")
    return target


def test_missing_template_error_names_the_file(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()

    with pytest.raises(PolicyError) as caught:
        load_executor_prompt(policies)

    assert caught.value.path == policies / "prompts" / "executor.md"
    assert "executor.md" in str(caught.value)
    assert "not found" in str(caught.value)


def test_unknown_placeholder_error_names_file_line_and_allowed_ones(tmp_path: Path) -> None:
    policies = _copy_policies(tmp_path)
    path = policies / "prompts" / "escalator.md"
    path.write_text(path.read_text() + "\nCustomer: {{customer_name}}\n")
    line = path.read_text().splitlines().index("Customer: {{customer_name}}") + 1

    with pytest.raises(PolicyError) as caught:
        load_escalator_prompt(policies)

    message = str(caught.value)
    assert str(path) in message
    assert f"line {line}: unknown placeholder {{{{customer_name}}}}" in message
    assert "{{tool_name}}" in message  # what is allowed instead


def test_malformed_placeholder_and_empty_template_are_errors(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    (prompts / "executor.md").write_text("Answer {{ draft schema }} now")
    (prompts / "escalator.md").write_text("<!-- only a note for editors -->\n")

    with pytest.raises(PolicyError, match="malformed placeholder"):
        load_executor_prompt(tmp_path)
    with pytest.raises(PolicyError, match="empty"):
        load_escalator_prompt(tmp_path)


def test_placeholders_inside_editor_comments_are_ignored(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    (prompts / "custom.md").write_text("<!-- uses {{anything}} -->\nHello {{name}}.\n")

    template = load_prompt(tmp_path, "custom", allowed={"name"})

    assert template.render(name="Ada") == "Hello Ada.\n"
    with pytest.raises(PolicyError, match="no value supplied"):
        template.render()
