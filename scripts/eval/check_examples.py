"""Check that no text of a policy file copies a sentence of a labelled data set.

Every category description, example and routine example and every scope text is compared
with every data sentence after normalisation (lower case, words only). A text is a copy when
it equals a sentence, when their character-level similarity (difflib ratio) reaches
``--max-ratio``, or when their word sets overlap (Jaccard) by ``--max-jaccard`` or more.

    .venv/bin/python scripts/eval/check_examples.py \
        scripts/eval/banking/policies/escalation.yaml ../shared/eval/routing-dev-clinc150.jsonl
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from pathlib import Path

from supportbot.errors import PolicyError
from supportbot.routing.policy import Policy, load_policy_file

MAX_RATIO = 0.8
MAX_JACCARD = 0.8


def _normalise(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", text.lower()))


def policy_texts(policy: Policy) -> list[str]:
    texts: list[str] = []
    if policy.scope is not None:
        texts.extend(policy.scope.texts)
    for category in policy.categories.values():
        texts.append(category.description)
        texts.extend(category.examples)
        texts.extend(category.routine_examples)
    return texts


def near_copies(
    texts: list[str],
    sentences: list[str],
    *,
    max_ratio: float = MAX_RATIO,
    max_jaccard: float = MAX_JACCARD,
) -> list[tuple[str, str, float, float]]:
    """(policy text, data sentence, ratio, jaccard) for every pair that is too close."""
    data = [(s, _normalise(s), set(_normalise(s).split())) for s in sentences]
    found = []
    for text in texts:
        norm = _normalise(text)
        words = set(norm.split())
        matcher = difflib.SequenceMatcher(None, "", norm, autojunk=False)
        for original, other, other_words in data:
            jaccard = len(words & other_words) / max(1, len(words | other_words))
            matcher.set_seq1(other)
            if matcher.real_quick_ratio() < max_ratio and jaccard < max_jaccard:
                continue
            ratio = matcher.ratio()
            if norm == other or ratio >= max_ratio or jaccard >= max_jaccard:
                found.append((text, original, ratio, jaccard))
    return found


def closest_ratio(texts: list[str], sentences: list[str]) -> float:
    """The highest character-level similarity of any policy text to any data sentence."""
    data = [_normalise(s) for s in sentences]
    best = 0.0
    for text in texts:
        matcher = difflib.SequenceMatcher(None, "", _normalise(text), autojunk=False)
        for other in data:
            matcher.set_seq1(other)
            if matcher.real_quick_ratio() > best and matcher.quick_ratio() > best:
                best = max(best, matcher.ratio())
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("policy", type=Path)
    parser.add_argument("data", type=Path, help="JSON lines with a 'text' field")
    parser.add_argument("--max-ratio", type=float, default=MAX_RATIO)
    parser.add_argument("--max-jaccard", type=float, default=MAX_JACCARD)
    args = parser.parse_args()
    try:
        policy = load_policy_file(args.policy)
    except PolicyError as exc:
        print(exc, file=sys.stderr)
        return 2
    sentences = [
        json.loads(line)["text"]
        for line in args.data.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    texts = policy_texts(policy)
    copies = near_copies(texts, sentences, max_ratio=args.max_ratio, max_jaccard=args.max_jaccard)
    for text, sentence, ratio, jaccard in copies:
        print(f"TOO CLOSE ratio={ratio:.2f} jaccard={jaccard:.2f}: {text!r} ~ {sentence!r}")
    print(
        f"{len(texts)} policy texts vs {len(sentences)} data sentences: "
        f"{len(copies)} near copies; closest ratio {closest_ratio(texts, sentences):.2f}"
    )
    return 1 if copies else 0


if __name__ == "__main__":
    sys.exit(main())
