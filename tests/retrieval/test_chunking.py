"""Markdown chunking: heading paths, line ranges, front matter, windows, bad files."""

from __future__ import annotations

import pytest
from retrieval_helpers import REFUNDS

from supportbot.retrieval.chunking import DocumentError, MarkdownChunker
from supportbot.retrieval.embedders import HashingEmbedder, MiniLMEmbedder


def _chunker(embedder: HashingEmbedder | MiniLMEmbedder) -> MarkdownChunker:
    return MarkdownChunker(embedder.count_tokens, max_tokens=embedder.max_tokens)


def _lines(text: str, start: int, end: int) -> str:
    return "\n".join(text.split("\n")[start - 1 : end])


def test_sections_keep_heading_path_and_exact_line_range() -> None:
    doc = _chunker(HashingEmbedder()).parse("billing/refunds.md", REFUNDS.encode())

    assert doc.title == "Refund policy"
    assert [c.heading for c in doc.chunks] == [
        "Refunds",
        "Refunds > Exceptions",
        "Refunds > How to ask for one",
    ]
    for chunk in doc.chunks:
        assert _lines(REFUNDS, chunk.line_start, chunk.line_end) == chunk.text
    assert doc.chunks[1].line_start == 9  # "## Exceptions", after 4 lines of front matter
    assert doc.chunks[1].embed_text.startswith("Refund policy > Refunds > Exceptions\n")
    assert [c.index for c in doc.chunks] == [0, 1, 2]


def test_text_before_first_heading_and_code_fences() -> None:
    text = (
        "Intro words here.\n\n# Guide\n\n```bash\n# not a heading\nrun --it\n```\n\n## Step\nDo it."
    )
    doc = _chunker(HashingEmbedder()).parse("guide.md", text.encode())

    assert [(c.heading, c.line_start, c.line_end) for c in doc.chunks] == [
        ("", 1, 1),
        ("Guide", 3, 8),
        ("Guide > Step", 10, 11),
    ]
    assert "# not a heading" in doc.chunks[1].text


def test_heading_only_sections_are_dropped_but_name_their_children() -> None:
    text = "# Top\n## Middle\n### Leaf\nleaf text\n"
    doc = _chunker(HashingEmbedder()).parse("a.md", text.encode())

    assert [(c.heading, c.line_start, c.line_end) for c in doc.chunks] == [
        ("Top > Middle > Leaf", 3, 4)
    ]


def test_crlf_tabs_and_closing_hashes() -> None:
    text = "#\tTitle ##\r\n\r\nBody line.\r\n"
    doc = _chunker(HashingEmbedder()).parse("a.md", text.encode())

    assert [(c.heading, c.line_start, c.line_end) for c in doc.chunks] == [("Title", 1, 3)]


def test_long_sections_are_split_to_fit_the_embedder_window(embedder: MiniLMEmbedder) -> None:
    sentences = [
        f"Rule {i}: invoices in region {i} are issued on day {i % 28 + 1} of the month "
        "and reminders follow after seven days."
        for i in range(60)
    ]
    paragraphs = "\n\n".join(" ".join(sentences[i : i + 4]) for i in range(0, 60, 4))
    text = f"# Billing calendar\n\n## Regions\n\n{paragraphs}\n"
    doc = _chunker(embedder).parse("calendar.md", text.encode())

    assert len(doc.chunks) > 3
    for chunk in doc.chunks:
        assert embedder.count_tokens(chunk.embed_text) <= embedder.max_tokens - 2
        assert chunk.heading == "Billing calendar > Regions"
        assert _lines(text, chunk.line_start, chunk.line_end) == chunk.text
    covered = " ".join(c.text for c in doc.chunks)
    assert all(s in covered for s in sentences)


def test_content_hash_changes_with_content_and_chunker_settings() -> None:
    embedder = HashingEmbedder()
    a = MarkdownChunker(embedder.count_tokens, max_tokens=256)
    b = MarkdownChunker(embedder.count_tokens, max_tokens=256, target_tokens=100)

    assert a.content_hash(b"x") == a.content_hash(b"x")
    assert a.content_hash(b"x") != a.content_hash(b"y")
    assert a.content_hash(b"x") != b.content_hash(b"x")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty file"),
        (b"  \n\n", "empty file"),
        (b"# Title\x00\x01\x02", "binary file"),
        (b"# Caf\xe9\n", "not valid UTF-8 (byte 0xe9 at line 1)"),
        (b"---\ntitle: [unclosed\n---\n# A\ntext\n", "invalid YAML front matter at line 2"),
        (b"---\ntitle: x\n# A\ntext\n", "never closed"),
        (b"---\n- a\n- b\n---\n# A\ntext\n", "front matter must be a mapping"),
        (b"---\ntitle: only\n---\n", "no text to index after the front matter"),
        (b"# Just\n## Headings\n", "no text to index"),
    ],
)
def test_bad_files_raise_a_document_error_that_says_why(raw: bytes, reason: str) -> None:
    with pytest.raises(DocumentError) as caught:
        _chunker(HashingEmbedder()).parse("bad.md", raw)

    assert reason in caught.value.reason
    assert caught.value.source == "bad.md"


def test_utf8_bom_and_unicode_are_fine() -> None:
    doc = _chunker(HashingEmbedder()).parse("a.md", "\ufeff# Café\n\nÜber naïve.\n".encode())

    assert doc.chunks[0].heading == "Café"
    assert doc.chunks[0].line_start == 1
