"""Server mode: the same code against a real `chroma run` through chromadb's HttpClient."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from retrieval_helpers import EXPORT

from supportbot.retrieval import build_retriever, open_index
from supportbot.retrieval.embedders import HashingEmbedder
from supportbot.retrieval.index import IndexNotBuilt
from supportbot.settings import Settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A real Chroma server on 127.0.0.1, up once its heartbeat answers; stopped at the end."""
    port = _free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    chroma = Path(sys.executable).with_name("chroma")
    log = (path / "server.log").open("wb")
    process = subprocess.Popen(
        [
            str(chroma),
            "run",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--path",
            str(path / "db"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                url = f"http://127.0.0.1:{port}/api/v2/heartbeat"
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"chroma run did not start: {(path / 'server.log').read_text()}")
            time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_index_and_retrieve_through_a_chroma_server(
    chroma_server: int, kb: Path, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings(
        chroma_host="127.0.0.1", chroma_port=chroma_server, chroma_collection="server-test"
    )
    embedder = HashingEmbedder()
    index = open_index(settings, embedder)
    with pytest.raises(IndexNotBuilt):
        index.snapshot()

    first = index.update(kb)
    retriever = build_retriever(settings, embedder)
    top = retriever.retrieve("SSO-402 certificate expired", 3).passages[0]

    assert first.added == 3
    assert index.connection.description == f"http://127.0.0.1:{chroma_server}"
    assert not (tmp_path / "data" / "index").exists()  # nothing went to the embedded store
    assert (top.source, top.heading) == ("accounts/sso.md", "Single sign-on > Troubleshooting")

    (kb / "data/export.md").write_text(EXPORT.replace("CSV", "Parquet"))
    (kb / "accounts/sso.md").unlink()
    second = index.update(kb)
    passages = retriever.retrieve("Parquet export SSO", 10).passages

    assert (second.updated, second.removed, second.unchanged) == (1, 1, 1)
    assert {p.source for p in passages} == {"data/export.md", "billing/refunds.md"}
    assert any("Parquet" in p.text for p in passages)
    assert all("CSV" not in p.text for p in passages)
