"""Routing quality before any model call (``eval routing --no-model``) on labelled questions.

Defaults reproduce the banking numbers: the banking knowledge base and policy under
``scripts/eval/banking/`` against CLINC150's banking questions (``../shared/eval``)::

    .venv/bin/python scripts/eval/run_banking.py [--json] [--show-errors 20]

Other data, knowledge and policies (e.g. the sample company)::

    .venv/bin/python scripts/eval/run_banking.py --data tests/data/routing_sample.jsonl \
        --knowledge knowledge --policies policies

A help center that also documents the risky processes (``--add-knowledge`` copies more pages
into the indexed knowledge; ``--add-source`` gives a category a source pattern, as a lead
would write in ``sources:``)::

    .venv/bin/python scripts/eval/run_banking.py \
        --add-knowledge scripts/eval/banking/risk-pages \
        --add-source lost_or_stolen_card=security/lost-or-stolen-cards \
        --add-source suspected_fraud=security/fraud-and-unauthorized-charges \
        --add-source freeze_account=security/account-holds-and-freezes#Freezing* \
        --add-source account_restricted=security/account-holds-and-freezes#When*  \
        --add-source account_restricted=security/account-holds-and-freezes#Getting*

The knowledge base is indexed with the real index and retriever into a temporary data dir.
Before evaluating, the policy's texts are checked for near copies of the data's sentences
(``check_examples.py``); any near copy fails the run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from check_examples import near_copies, policy_texts

from supportbot.retrieval import build_embedder, build_retriever, open_index
from supportbot.routing.evaluation import evaluate_pre_model, load_labelled_questions
from supportbot.routing.policy import Policy, load_policy
from supportbot.routing.sources import unmatched_patterns
from supportbot.settings import Settings

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description="Pre-model routing quality.")
    parser.add_argument(
        "--data", type=Path, default=REPO.parent / "shared/eval/routing-dev-clinc150.jsonl"
    )
    parser.add_argument("--knowledge", type=Path, default=HERE / "banking/knowledge")
    parser.add_argument("--policies", type=Path, default=HERE / "banking/policies")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")
    parser.add_argument("--show-errors", type=int, default=0, metavar="N")
    parser.add_argument(
        "--skip-copy-check", action="store_true", help="data whose sentences may be in the policy"
    )
    parser.add_argument(
        "--add-knowledge",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="more Markdown pages to index with --knowledge (repeatable)",
    )
    parser.add_argument(
        "--add-source",
        action="append",
        default=[],
        metavar="CATEGORY=PATTERN",
        help="add a source pattern to a category of the policy (repeatable)",
    )
    args = parser.parse_args()

    rows = load_labelled_questions(args.data)
    policy = with_sources(load_policy(args.policies), args.add_source)
    if not args.skip_copy_check:
        copies = near_copies(policy_texts(policy), [r.text for r in rows])
        for text, sentence, ratio, jaccard in copies:
            print(
                f"near copy ({ratio:.2f}/{jaccard:.2f}): {text!r} ~ {sentence!r}", file=sys.stderr
            )
        if copies:
            return 1

    with tempfile.TemporaryDirectory() as data_dir:
        knowledge = args.knowledge
        if args.add_knowledge:
            knowledge = Path(data_dir) / "knowledge"
            for tree in [args.knowledge, *args.add_knowledge]:
                shutil.copytree(tree, knowledge, dirs_exist_ok=True)
        settings = Settings(
            knowledge_dir=knowledge, policies_dir=args.policies, data_dir=Path(data_dir) / "data"
        )
        doc_ids = [
            p.relative_to(knowledge).with_suffix("").as_posix() for p in knowledge.rglob("*.md")
        ]
        for name, category in policy.categories.items():
            for pattern in unmatched_patterns(category.sources or [], doc_ids):
                print(f"warning: {name}: source {pattern!r} names no page", file=sys.stderr)
        embedder = build_embedder(settings)
        started = time.perf_counter()
        report = open_index(settings, embedder).update(settings.knowledge_dir)
        index_seconds = time.perf_counter() - started
        retriever = build_retriever(settings, embedder)
        metrics, decisions = evaluate_pre_model(
            rows, retriever=retriever, embedder=embedder, policy=policy, k=args.k
        )

    if args.json:
        print(metrics.model_dump_json(indent=2))
    else:
        print(f"indexed {report.chunks} chunks in {index_seconds:.1f}s; {metrics.n} questions")
        print(
            f"recall {metrics.recall}  precision {metrics.precision}  "
            f"false escalation rate {metrics.false_escalation_rate}  "
            f"declined {metrics.declined_rate}  "
            f"{metrics.seconds_per_question * 1000:.1f} ms/question"
        )
        for name, cat in metrics.per_category.items():
            print(
                f"  {name:24s} n={cat.n:5d} recall={cat.recall:.3f} declined={cat.declined:.3f}"
                f"  {metrics.confusion[name]}"
            )
        signals = Counter(r.signal for d in decisions for r in d.reasons)
        print("signals:", dict(signals.most_common()))
    if args.show_errors:
        wrong = [
            (row, d) for row, d in zip(rows, decisions, strict=True) if d.escalated != row.escalate
        ]
        for row, d in wrong[: args.show_errors]:
            detail = "; ".join(f"{r.signal}: {r.detail}" for r in d.reasons)
            print(json.dumps({"text": row.text, "label": row.category, "route": d.route}), detail)
    return 0


def with_sources(policy: Policy, additions: list[str]) -> Policy:
    """The policy with ``CATEGORY=PATTERN`` source patterns added (validated as in a file)."""
    if not additions:
        return policy
    data = policy.model_dump()
    for addition in additions:
        name, _, pattern = addition.partition("=")
        if name not in data["categories"] or not pattern:
            raise SystemExit(f"--add-source {addition!r}: expected CATEGORY=PATTERN")
        data["categories"][name]["sources"] = [
            *(data["categories"][name]["sources"] or []),
            pattern,
        ]
    return Policy.model_validate(data)


if __name__ == "__main__":
    sys.exit(main())
