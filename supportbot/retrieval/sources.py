"""Finding and reading the Markdown files of a knowledge dir."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from supportbot.errors import KnowledgeIndexError

MARKDOWN_SUFFIX = ".md"


@dataclass(frozen=True)
class KnowledgeFile:
    """A ``*.md`` entry under the knowledge dir."""

    path: Path
    source: str  # path relative to the knowledge dir, "/"-separated
    doc_id: str  # ``source`` without ".md"


def doc_id_of(source: str) -> str:
    return source[: -len(MARKDOWN_SUFFIX)] if source.endswith(MARKDOWN_SUFFIX) else source


def scan_knowledge_dir(root: Path) -> list[KnowledgeFile]:
    """Every ``*.md`` below ``root`` (hidden files and dirs skipped), sorted by path.

    Entries that are not regular files (dangling symlinks, sockets) are listed too, so
    reading them reports a clear error instead of silently ignoring them.
    """
    if not root.is_dir():
        raise KnowledgeIndexError(f"knowledge dir {root} does not exist or is not a directory")
    found: list[KnowledgeFile] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        base = Path(dirpath)
        for name in filenames:
            if name.startswith(".") or not name.endswith(MARKDOWN_SUFFIX):
                continue
            path = base / name
            source = path.relative_to(root).as_posix()
            found.append(KnowledgeFile(path=path, source=source, doc_id=doc_id_of(source)))
    found.sort(key=lambda f: f.source)
    return found


def read_bytes(file: KnowledgeFile) -> bytes:
    """The file's bytes; ``OSError`` with a plain message when it cannot be read."""
    if not file.path.is_file():
        if file.path.is_symlink() and not file.path.exists():
            raise OSError(f"broken symbolic link to {os.readlink(file.path)}")
        if file.path.exists():
            raise OSError("not a regular file")
    try:
        return file.path.read_bytes()
    except OSError as exc:
        raise OSError(f"cannot read: {exc.strerror or exc}") from None
