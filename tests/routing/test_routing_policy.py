"""The policy file: schema, loading, and errors that name the file, the field and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from supportbot.errors import PolicyError
from supportbot.routing.policy import (
    Policy,
    load_policy,
    load_policy_file,
    parse_policy,
)
from supportbot.settings import Settings

REPO = Path(__file__).resolve().parents[2]

MINIMAL = """
categories:
  refund_exception:
    description: "Refunds outside the window."
    examples: ["Can I get a refund after 60 days?"]
    escalate_to: human
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "escalation.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def problems_of(tmp_path: Path, text: str) -> tuple[str, PolicyError]:
    write(tmp_path, text)
    with pytest.raises(PolicyError) as caught:
        load_policy(tmp_path)
    return str(caught.value), caught.value


@pytest.mark.parametrize(
    "policies_dir", [REPO / "policies", REPO / "scripts/eval/banking/policies"]
)
def test_shipped_policies_load(policies_dir: Path) -> None:
    policy = load_policy(policies_dir)
    assert policy.categories
    for category in policy.categories.values():
        assert category.examples
        assert category.escalate_to in ("frontier", "human")


def test_sample_policy_covers_the_required_categories() -> None:
    policy = load_policy(REPO / "policies")
    routes = {name: c.escalate_to for name, c in policy.categories.items()}
    assert routes == {
        "refund_exception": "human",
        "compliance_legal": "human",
        "security_incident": "human",
        "enterprise_contract": "frontier",
        "policy_ambiguity": "frontier",
    }


def test_loads_from_settings_policies_dir(tmp_path: Path, isolated_env: Path) -> None:
    write(tmp_path, MINIMAL)
    settings = Settings(policies_dir=tmp_path)
    policy = load_policy(settings.policies_dir)
    assert list(policy.categories) == ["refund_exception"]


def test_defaults_fill_optional_sections(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, MINIMAL))
    assert policy.thresholds.min_retrieval_score == 0.3
    assert policy.thresholds.min_confidence == 0.6
    assert policy.thresholds.max_model_failures == 2
    assert policy.budget.frontier_calls_per_day == 500
    assert policy.thresholds.category_floor == policy.thresholds.min_retrieval_score
    assert policy.thresholds.off_topic_below == policy.thresholds.min_retrieval_score
    assert policy.categories["refund_exception"].keywords == []
    assert policy.channels == {}


def test_full_schema_round_trips() -> None:
    text = (
        MINIMAL
        + """
scope:
  description: "A project tool."
  examples: ["how do I add a task?"]
thresholds: {min_retrieval_score: 0.25, min_confidence: 0.5, max_model_failures: 3,
             category_margin: -0.02, category_min_score: 0.2, category_strong_score: 0.8,
             off_topic_score: 0.15, conflict_min_score: 0.4}
budget: {frontier_calls_per_day: 0}
channels:
  C123: {escalate_to: frontier, auto_answer: true, decline_off_topic: false, note: "x"}
routing: {weak_retrieval_to: frontier, conflicting_evidence_to: human,
          executor_escalation_to: human, human_request_phrases: ["get me a manager"]}
"""
    )
    policy = parse_policy(text)
    assert policy.thresholds.category_floor == 0.2
    assert policy.thresholds.off_topic_below == 0.15
    assert policy.thresholds.conflict_floor == 0.4
    assert policy.routing.human_request_phrases == ["get me a manager"]
    assert Policy.model_validate(policy.model_dump()) == policy


def test_unknown_top_level_key_lists_allowed_keys(tmp_path: Path) -> None:
    message, error = problems_of(tmp_path, MINIMAL + "categorys: {}\n")
    assert str(tmp_path / "escalation.yaml") in message
    assert "categorys: unknown key 'categorys'" in message
    assert "allowed keys: scope, categories, thresholds, budget, channels, routing" in message
    assert error.path == tmp_path / "escalation.yaml"


def test_unknown_key_in_a_category_names_the_path(tmp_path: Path) -> None:
    text = MINIMAL.replace("escalate_to: human", "escalate_to: human\n    keyword: [x]")
    message, _ = problems_of(tmp_path, text)
    assert "categories.refund_exception.keyword: unknown key 'keyword'" in message
    assert "allowed keys: description, examples, keywords, escalate_to" in message


def test_unknown_key_in_thresholds(tmp_path: Path) -> None:
    message, _ = problems_of(tmp_path, MINIMAL + "thresholds: {min_score: 0.2}\n")
    assert "thresholds.min_score: unknown key 'min_score'" in message
    assert "min_retrieval_score" in message


def test_unknown_key_in_a_channel_rule(tmp_path: Path) -> None:
    message, _ = problems_of(tmp_path, MINIMAL + "channels: {C1: {route: human}}\n")
    assert "channels.C1.route: unknown key 'route'" in message
    assert "allowed keys: escalate_to, auto_answer, decline_off_topic, note" in message


def test_wrong_type(tmp_path: Path) -> None:
    message, _ = problems_of(tmp_path, MINIMAL + "thresholds: {min_confidence: high}\n")
    assert "thresholds.min_confidence:" in message
    assert "'high'" in message


def test_out_of_range_threshold(tmp_path: Path) -> None:
    message, _ = problems_of(tmp_path, MINIMAL + "thresholds: {min_retrieval_score: 1.5}\n")
    assert "thresholds.min_retrieval_score: Input should be less than or equal to 1" in message


def test_examples_must_be_a_list(tmp_path: Path) -> None:
    text = MINIMAL.replace('["Can I get a refund after 60 days?"]', '"just one string"')
    message, _ = problems_of(tmp_path, text)
    assert "categories.refund_exception.examples:" in message


def test_bad_enum_value(tmp_path: Path) -> None:
    message, _ = problems_of(tmp_path, MINIMAL.replace("escalate_to: human", "escalate_to: robot"))
    assert "categories.refund_exception.escalate_to: 'robot' is not allowed" in message
    assert "'frontier' or 'human'" in message


def test_yaml_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    message, _ = problems_of(tmp_path, "categories:\n  a: [unclosed\n  b: 1\n")
    assert "YAML syntax error at line" in message
    assert "column" in message


def test_tab_indentation_is_a_syntax_error(tmp_path: Path) -> None:
    message, _ = problems_of(tmp_path, "categories:\n\trefunds: {}\n")
    assert "YAML syntax error at line 2, column 1" in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy(tmp_path / "nowhere")
    assert "file not found" in str(caught.value)
    assert str(tmp_path / "nowhere" / "escalation.yaml") in str(caught.value)


@pytest.mark.parametrize("text", ["", "   \n", "# only a comment\n"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    message, _ = problems_of(tmp_path, text)
    assert "the file is empty" in message


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    message, _ = problems_of(tmp_path, "- a\n- b\n")
    assert "the top level must be a mapping" in message


def test_duplicate_category_names(tmp_path: Path) -> None:
    message, _ = problems_of(tmp_path, MINIMAL + MINIMAL.replace("categories:\n", ""))
    # YAML would silently keep the second; the loader refuses with both lines.
    assert "YAML error at line 8, column 3: duplicate key 'refund_exception'" in message
    assert "(first defined on line 3)" in message


def test_category_names_differing_only_in_case(tmp_path: Path) -> None:
    text = MINIMAL + MINIMAL.replace("categories:\n", "").replace(
        "refund_exception", "Refund_Exception"
    )
    message, _ = problems_of(tmp_path, text)
    assert "'Refund_Exception' and 'refund_exception' differ only in letter case" in message


def test_duplicate_key_inside_a_category(tmp_path: Path) -> None:
    text = MINIMAL.replace("escalate_to: human", "escalate_to: human\n    escalate_to: frontier")
    message, _ = problems_of(tmp_path, text)
    assert "duplicate key 'escalate_to'" in message


def test_empty_examples(tmp_path: Path) -> None:
    text = MINIMAL.replace('["Can I get a refund after 60 days?"]', "[]")
    message, _ = problems_of(tmp_path, text)
    assert "categories.refund_exception.examples: needs at least one example question" in message


def test_blank_example(tmp_path: Path) -> None:
    text = MINIMAL.replace('["Can I get a refund after 60 days?"]', '["ok", "  "]')
    message, _ = problems_of(tmp_path, text)
    assert "categories.refund_exception.examples.1: must not be empty" in message


def test_duplicate_examples(tmp_path: Path) -> None:
    text = MINIMAL.replace('["Can I get a refund after 60 days?"]', '["Refund?", "refund?"]')
    message, _ = problems_of(tmp_path, text)
    assert "categories.refund_exception.examples: duplicate entry 'refund?'" in message


def test_missing_required_fields(tmp_path: Path) -> None:
    message, _ = problems_of(tmp_path, "categories:\n  refunds: {examples: [a]}\n")
    assert "categories.refunds.description: required field is missing" in message
    assert "categories.refunds.escalate_to: required field is missing" in message


def test_bad_category_name(tmp_path: Path) -> None:
    message, _ = problems_of(tmp_path, MINIMAL.replace("refund_exception:", "'refund exception':"))
    assert "names may use only letters, digits" in message


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = MINIMAL.replace("escalate_to: human", "escalate_to: robot") + "budget: {calls: 1}\n"
    _, error = problems_of(tmp_path, text)
    assert len(error.problems) == 2


def test_load_policy_file_takes_a_path(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL) / "escalation.yaml"
    assert load_policy_file(path).categories["refund_exception"].escalate_to == "human"


def test_fingerprint_changes_with_the_embedded_texts() -> None:
    base = parse_policy(MINIMAL)
    same = parse_policy(MINIMAL + "budget: {frontier_calls_per_day: 3}\n")
    other = parse_policy(MINIMAL.replace("after 60 days", "after 90 days"))
    assert base.fingerprint == same.fingerprint
    assert base.fingerprint != other.fingerprint


def test_channel_rule_lookup_by_id_or_name() -> None:
    policy = parse_policy(
        MINIMAL + "channels: {C1: {escalate_to: human}, legal: {auto_answer: false}}\n"
    )
    assert policy.channel_rule("C1", None) is not None
    found = policy.channel_rule("C9", "#legal")
    assert found is not None
    assert found[1].minimum_route == "human"
    assert policy.channel_rule("C9", "general") is None
    assert policy.channel_rule(None, None) is None


def test_sources_and_routine_examples_load(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "escalate_to: human",
        "escalate_to: human\n"
        '    sources: ["billing/refund-policy#Exceptions*", "billing/chargebacks/"]\n'
        '    routine_examples: ["What is your refund policy?"]',
    )
    category = load_policy(write(tmp_path, text)).categories["refund_exception"]
    assert category.sources == ["billing/refund-policy#Exceptions*", "billing/chargebacks/"]
    assert category.routine_examples == ["What is your refund policy?"]
    assert load_policy(write(tmp_path, MINIMAL)).categories["refund_exception"].sources is None
    declared_none = MINIMAL.replace("escalate_to: human", "escalate_to: human\n    sources: []")
    assert load_policy(write(tmp_path, declared_none)).categories["refund_exception"].sources == []


def test_a_bad_source_pattern_names_the_entry_and_the_problem(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "escalate_to: human", 'escalate_to: human\n    sources: ["billing/**", "/security/**"]'
    )
    message, _ = problems_of(tmp_path, text)
    assert (
        "categories.refund_exception.sources.1: source pattern '/security/**': must be "
        "relative to the knowledge dir" in message
    )


def test_duplicate_sources(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "escalate_to: human", 'escalate_to: human\n    sources: ["billing/**", "Billing/**"]'
    )
    message, _ = problems_of(tmp_path, text)
    assert "categories.refund_exception.sources: duplicate entry 'Billing/**'" in message


def test_a_routine_example_cannot_also_be_an_example(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "escalate_to: human",
        'escalate_to: human\n    routine_examples: ["can I get a refund after 60 days?"]',
    )
    message, _ = problems_of(tmp_path, text)
    assert "categories.refund_exception: routine_examples: 'can I get a refund after 60 days?'" in (
        message
    )
    assert "is also one of the examples" in message


def test_unknown_key_in_a_category_lists_the_new_keys(tmp_path: Path) -> None:
    text = MINIMAL.replace("escalate_to: human", "escalate_to: human\n    source: [x]")
    message, _ = problems_of(tmp_path, text)
    assert "categories.refund_exception.source: unknown key 'source'" in message
    assert "sources, routine_examples" in message


def test_policy_fingerprint_covers_sources_and_routine_examples() -> None:
    base = parse_policy(MINIMAL)
    with_sources = parse_policy(
        MINIMAL.replace("escalate_to: human", 'escalate_to: human\n    sources: ["billing/**"]')
    )
    with_routine = parse_policy(
        MINIMAL.replace(
            "escalate_to: human", 'escalate_to: human\n    routine_examples: ["refund policy?"]'
        )
    )
    no_pages = parse_policy(
        MINIMAL.replace("escalate_to: human", "escalate_to: human\n    sources: []")
    )
    fingerprints = [base, with_sources, with_routine, no_pages]
    assert len({p.fingerprint for p in fingerprints}) == 4
