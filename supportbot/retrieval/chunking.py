"""Markdown-aware chunking of knowledge files.

A knowledge file becomes a list of :class:`Chunk` s:

1. Optional YAML front matter (``---`` … ``---`` at the top) is parsed; its ``title``
   becomes context for every chunk. Broken front matter is an error for that file.
2. llama-index's ``MarkdownNodeParser`` cuts the body at ATX headings (code fences are
   respected); each section keeps its heading path (``"Billing > Refunds"``).
3. Sections longer than the embedder's window are cut by llama-index's
   ``SentenceSplitter``, counting the embedder's own word pieces, so no chunk is ever
   truncated by the model.
4. Every chunk records its 1-based, inclusive line range in the original file.

The embedded text of a chunk is its heading context (title and heading path) followed by
the passage, so a short section ("## Fax support\\nWe don't.") still carries what it is
about; the stored, shown and cited text is the passage alone.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict

#: Bumped whenever chunking output changes for the same input; part of every content hash,
#: so an index built by an older chunker is re-embedded by the next incremental run.
CHUNKER_VERSION = 3

HEADING_SEPARATOR = " > "
_PATH_SEPARATOR = "\x1f"  # llama-index joins the header path with this; never in headings
_ATX_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_ATX_WHITESPACE = re.compile(r"^(#+)\s", re.MULTILINE)
_BINARY_SNIFF_BYTES = 8192
_MAX_CONTEXT_TOKENS = 48
_MIN_BUDGET_TOKENS = 16


class DocumentError(Exception):
    """One knowledge file cannot be indexed; ``reason`` says why in plain words."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class Chunk(BaseModel):
    """One passage of a knowledge file, ready to embed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    index: int
    heading: str  # heading path, " > "-joined ("" before the first heading)
    line_start: int  # 1-based, inclusive, in the original file
    line_end: int
    text: str  # the passage as written: shown, cited and searched lexically
    embed_text: str  # what the embedder sees: heading context + passage


class ParsedDocument(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str
    chunks: list[Chunk]


class MarkdownChunker:
    """Splits Markdown into heading-aware chunks that fit the embedder's window.

    ``count_tokens`` counts the embedder's word pieces (``MiniLMEmbedder.count_tokens``);
    ``max_tokens`` is the embedder's window including its two special tokens.
    ``target_tokens`` caps chunk size below the window (smaller chunks are more precise,
    larger ones carry more context); ``overlap_tokens`` is repeated between the pieces
    of a long section.
    """

    def __init__(
        self,
        count_tokens: Callable[[str], int],
        *,
        max_tokens: int = 256,
        target_tokens: int = 200,
        overlap_tokens: int = 24,
        heading_context: bool = True,
    ) -> None:
        if max_tokens < 64:
            raise ValueError(f"max_tokens must be at least 64, got {max_tokens}")
        self._count_tokens = count_tokens
        self._window = max_tokens - 2  # [CLS] and [SEP]
        self._target = min(target_tokens, self._window)
        self._overlap = overlap_tokens
        self._heading_context = heading_context

    @property
    def signature(self) -> str:
        """Identifies the chunking output; part of the content hash of every file."""
        return (
            f"chunker-v{CHUNKER_VERSION}/window={self._window}/target={self._target}"
            f"/overlap={self._overlap}/context={int(self._heading_context)}"
        )

    def content_hash(self, raw: bytes) -> str:
        digest = hashlib.sha256(self.signature.encode())
        digest.update(b"\0")
        digest.update(raw)
        return digest.hexdigest()[:32]

    # -- public ------------------------------------------------------------------
    def parse(self, source: str, raw: bytes) -> ParsedDocument:
        """Chunk one file's bytes; raises :class:`DocumentError` for unusable files."""
        text = decode_markdown(source, raw)
        front_matter, body, body_offset = split_front_matter(source, text)
        title = _title_from(front_matter)
        chunks: list[Chunk] = []
        for heading, section, first_line in self._sections(source, body):
            context = self._context(title, heading)
            for piece, piece_line in self._pieces(source, section, first_line, context):
                line_end = piece_line + piece.count("\n")
                chunks.append(
                    Chunk(
                        index=len(chunks),
                        heading=heading,
                        line_start=piece_line + body_offset,
                        line_end=line_end + body_offset,
                        text=piece,
                        embed_text=f"{context}\n{piece}" if context else piece,
                    )
                )
        if not chunks:
            raise DocumentError(source, "no text to index (the file has only headings)")
        return ParsedDocument(title=title, chunks=chunks)

    # -- sections ----------------------------------------------------------------
    def _sections(self, source: str, body: str) -> list[tuple[str, str, int]]:
        """(heading path, section text, first line in body) for sections with text."""
        from llama_index.core import Document
        from llama_index.core.node_parser import MarkdownNodeParser

        # llama-index rebuilds a heading line with one space after the hashes; make the
        # input agree so every section is a verbatim substring and lines can be mapped.
        normalised = _ATX_WHITESPACE.sub(lambda m: m.group(1) + " ", body)
        parser = MarkdownNodeParser.from_defaults(
            include_metadata=True,
            include_prev_next_rel=False,
            header_path_separator=_PATH_SEPARATOR,
        )
        nodes = parser.get_nodes_from_documents([Document(text=normalised)])
        sections: list[tuple[str, str, int]] = []
        cursor = 0
        for node in nodes:
            section = node.get_content()
            start = normalised.find(section, cursor)
            if start < 0:  # cannot happen with the normalisation above; never guess lines
                raise DocumentError(source, "could not map a section back to its lines")
            cursor = start + len(section)
            parents = [
                p for p in str(node.metadata.get("header_path", "")).split(_PATH_SEPARATOR) if p
            ]
            first, _, rest = section.partition("\n")
            match = _ATX_HEADING.match(first)
            if match:
                parents.append(_clean_heading(match.group(2)))
                if not rest.strip():
                    continue  # a heading with no text of its own: its children carry it
            heading = HEADING_SEPARATOR.join(p for p in parents if p)
            sections.append((heading, section, normalised.count("\n", 0, start) + 1))
        return sections

    def _context(self, title: str, heading: str) -> str:
        if not self._heading_context:
            return ""
        parts = [title] if title else []
        if heading:
            top = heading.split(HEADING_SEPARATOR, 1)[0]
            if title and _same_words(top, title):
                heading = heading[len(top) :].removeprefix(HEADING_SEPARATOR)
            if heading:
                parts.append(heading)
        context = HEADING_SEPARATOR.join(parts)
        while context and self._count_tokens(context) > _MAX_CONTEXT_TOKENS:
            context = context[: int(len(context) * 0.8)].rstrip()
        return context

    # -- pieces that fit the window ----------------------------------------------
    def _pieces(
        self, source: str, section: str, first_line: int, context: str
    ) -> list[tuple[str, int]]:
        context_tokens = self._count_tokens(context) + 1 if context else 0
        budget = min(self._target, self._window - context_tokens)
        if self._count_tokens(section) <= budget:
            return [(section, first_line)]
        from llama_index.core.node_parser import SentenceSplitter

        while True:
            splitter = SentenceSplitter(
                chunk_size=budget,
                chunk_overlap=min(self._overlap, budget // 4),
                tokenizer=lambda s: range(self._count_tokens(s)),
                paragraph_separator="\n\n",
                include_metadata=False,
                include_prev_next_rel=False,
            )
            try:
                pieces = splitter.split_text(section)
            except ValueError as exc:  # llama-index: "Single token exceeded chunk size"
                raise DocumentError(source, f"cannot split a section to fit: {exc}") from None
            if all(self._count_tokens(p) + context_tokens <= self._window for p in pieces):
                break
            budget = int(budget * 0.9)  # word pieces of parts do not add up exactly
            if budget < _MIN_BUDGET_TOKENS:
                raise DocumentError(source, "cannot split a section to fit the embedder")
        located: list[tuple[str, int]] = []
        cursor = 0
        for piece in pieces:
            start = section.find(piece, cursor)
            if start < 0:
                start = section.find(piece)
            if start < 0:
                raise DocumentError(source, "could not map a chunk back to its lines")
            cursor = start + 1
            located.append((piece, first_line + section.count("\n", 0, start)))
        return located


# -- file-level helpers --------------------------------------------------------------
def decode_markdown(source: str, raw: bytes) -> str:
    """The file's text with ``\\n`` line ends; raises for binary, non-UTF-8 or empty files."""
    if not raw.strip():
        raise DocumentError(source, "empty file")
    if b"\0" in raw[:_BINARY_SNIFF_BYTES]:
        raise DocumentError(source, "binary file (contains NUL bytes), not Markdown text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DocumentError(
            source,
            f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at line {line}); save it as UTF-8",
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def split_front_matter(source: str, text: str) -> tuple[dict[str, Any], str, int]:
    """(front matter, body, number of lines before the body)."""
    if not text.startswith("---\n"):
        return {}, text, 0
    lines = text.split("\n")
    for end in range(1, len(lines)):
        if lines[end].rstrip() in ("---", "..."):
            break
    else:
        raise DocumentError(source, "front matter opened with '---' on line 1 is never closed")
    block = "\n".join(lines[1:end])
    try:
        data = yaml.safe_load(block) if block.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DocumentError(source, f"invalid YAML front matter{where}: {problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise DocumentError(
            source, f"front matter must be a mapping of keys to values, not {type(data).__name__}"
        )
    body = "\n".join(lines[end + 1 :])
    if not body.strip():
        raise DocumentError(source, "no text to index after the front matter")
    return data, body, end + 1


def _title_from(front_matter: dict[str, Any]) -> str:
    title = front_matter.get("title")
    return " ".join(str(title).split()) if title is not None else ""


def _clean_heading(text: str) -> str:
    return " ".join(text.strip().split())


def _same_words(a: str, b: str) -> bool:
    return a.casefold().split() == b.casefold().split()
