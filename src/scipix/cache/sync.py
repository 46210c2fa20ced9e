"""Keep this process's vector indexes in step with the SQLite change log; load, save, rebuild."""

from __future__ import annotations

import logging
from collections.abc import Callable

import cv2
import numpy as np

from scipix.cache.embed import EMBED_VERSION, latex_embedding
from scipix.cache.index import HnswParams, VectorIndex, create_index, load_index
from scipix.cache.index.layered import LayeredIndex
from scipix.cache.normalize import NormalizedInk, ink_from_array
from scipix.cache.options import CacheOptions
from scipix.cache.persist import IndexFiles, IndexState
from scipix.cache.store import Change, MetadataStore
from scipix.errors import CacheError

log = logging.getLogger(__name__)

LatexOf = Callable[[int, bytes, bool], str | None]
_BATCH = 2048
_ITEMSIZE = {"f32": 4, "f16": 2, "i8": 1}


def encode_ink(ink: NormalizedInk) -> bytes:
    ok, buf = cv2.imencode(".png", ink.ink)
    if not ok:
        raise CacheError("cannot encode the ink image")
    return bytes(buf)


def decode_ink(data: bytes, scale: float) -> NormalizedInk:
    arr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    if arr is None:
        raise CacheError("corrupt ink image in the cache")
    return ink_from_array(np.asarray(arr, np.uint8), scale=scale)


def _vectors(blobs: list[bytes], dim: int) -> np.ndarray:
    return (
        np.stack([np.frombuffer(b, np.float16) for b in blobs]).astype(np.float32).reshape(-1, dim)
    )


class IndexSync:
    """The image index (and, once searched, the LaTeX index) of one process."""

    def __init__(self, options: CacheOptions, store: MetadataStore, latex_of: LatexOf) -> None:
        self.options = options
        self.store = store
        self._latex_of = latex_of
        self.files = IndexFiles(options.dir, "image", options.backend)
        self._params = options.hnsw
        self._seq = 0
        self._dirty = 0
        self._latex: VectorIndex | None = None
        self.image: VectorIndex = self._open()

    @property
    def bytes_per_vector(self) -> int:
        """An estimate of one vector's share of the image index."""
        o = self.options
        return o.dimension * _ITEMSIZE[o.dtype] + 2 * o.hnsw.m * 4 + 64

    def _new(self, dtype: str | None = None) -> VectorIndex:
        d = dtype or self.options.dtype
        return create_index(self.options.backend, self.options.dimension, d, self._params)  # type: ignore[arg-type]

    # --- opening, rebuilding ----------------------------------------------------------------

    def _open(self) -> VectorIndex:
        o = self.options
        state = self.files.read_state()
        expected = (o.backend, o.dtype, o.dimension, EMBED_VERSION)
        if state is None or not self.files.path.exists():
            return self._rebuild("no saved index")
        if (state.backend, state.dtype, state.dim, state.embed_version) != expected:
            return self._rebuild("saved index has other settings")
        try:
            index = load_index(o.backend, self.files.path, self._params, view=o.mmap)
        except CacheError as exc:
            return self._rebuild(str(exc))
        if len(index) != state.count or index.dim != o.dimension:
            return self._rebuild("saved index does not match its state file")
        first = self.store.first_seq()
        if first and state.seq < first - 1:
            return self._rebuild("saved index is older than the change log")
        self._seq = state.seq
        self.image = LayeredIndex(index, self._new()) if o.mmap else index
        self.refresh()
        return self.image

    def _rebuild(self, why: str) -> VectorIndex:
        level = logging.INFO if self.store.count() else logging.DEBUG
        log.log(level, "rebuilding the cache vector index from SQLite (%s)", why)
        index = self._new()
        with self.store.snapshot():
            seq = self.store.last_seq()
            keys: list[int] = []
            blobs: list[bytes] = []
            for entry_id, blob in self.store.embeddings():
                keys.append(entry_id)
                blobs.append(blob)
                if len(keys) >= _BATCH:
                    index.add(np.array(keys, np.uint64), _vectors(blobs, self.options.dimension))
                    keys, blobs = [], []
            if keys:
                index.add(np.array(keys, np.uint64), _vectors(blobs, self.options.dimension))
        self._seq = seq
        self._latex = None
        state = self._state(index)
        self.files.save(index, state)
        self._dirty = 0
        if self.options.mmap:
            base = load_index(self.options.backend, self.files.path, self._params, view=True)
            self.image = LayeredIndex(base, self._new())
        else:
            self.image = index
        return self.image

    def _state(self, index: VectorIndex) -> IndexState:
        o = self.options
        return IndexState(self._seq, len(index), o.backend, o.dtype, o.dimension, EMBED_VERSION)

    # --- following the change log ---------------------------------------------------------

    def refresh(self) -> None:
        """Apply the changes other processes (and this one) have logged since the last call."""
        while True:
            last = self.store.last_seq()
            if last == self._seq:
                return
            first = self.store.first_seq()
            if last < self._seq or (first and first > self._seq + 1):
                self._rebuild("the change log moved past this process")
                continue
            changes = self.store.changes_since(self._seq)
            if not changes:
                return
            self._apply(changes)
            self._dirty += len(changes)
            if self._dirty >= self.options.save_every:
                self.save()

    def _apply(self, changes: list[Change]) -> None:
        run: list[int] = []
        for change in changes:
            if change.op == "add":
                run.append(change.entry_id)
                continue
            self._add(run)
            run = []
            if change.op == "del":
                key = np.array([change.entry_id], np.uint64)
                for index in (self.image, self._latex):
                    if index is not None and index.contains(change.entry_id):
                        index.remove(key)
            elif change.op == "clear":
                self.image.clear()
                if self._latex is not None:
                    self._latex.clear()
        self._add(run)
        self._seq = changes[-1].seq

    def _add(self, ids: list[int]) -> None:
        if not ids:
            return
        rows = [(i, b) for i, b in self.store.embeddings(ids) if not self.image.contains(i)]
        if rows:
            keys = np.array([i for i, _ in rows], np.uint64)
            self.image.add(keys, _vectors([b for _, b in rows], self.options.dimension))
        if self._latex is not None:
            self._add_latex(self._latex, ids)

    # --- the LaTeX index ------------------------------------------------------------------

    def _add_latex(self, index: VectorIndex, ids: list[int] | None) -> None:
        keys: list[int] = []
        vecs: list[np.ndarray] = []
        for entry_id, payload, encrypted in self.store.payloads(ids):
            if index.contains(entry_id):
                continue
            text = self._latex_of(entry_id, payload, encrypted)
            if text:
                keys.append(entry_id)
                vecs.append(latex_embedding(text, self.options.dimension))
        if keys:
            index.add(np.array(keys, np.uint64), np.stack(vecs))

    def latex_index(self) -> VectorIndex:
        """The LaTeX index, built from SQLite on first use and kept in memory only.

        It is never written to disk: with encryption on, LaTeX n-grams would leak.
        """
        if self._latex is None:
            index = create_index(
                self.options.backend, self.options.dimension, "f32", HnswParams(16, 100, 64)
            )
            with self.store.snapshot():
                self._add_latex(index, None)
            self._latex = index
        return self._latex

    # --- saving ---------------------------------------------------------------------------

    def save(self) -> None:
        if isinstance(self.image, LayeredIndex):
            return  # the view stays as it is; changes live beside it until the next rebuild
        self.files.save(self.image, self._state(self.image))
        self._dirty = 0

    def save_if_dirty(self) -> None:
        if self._dirty:
            self.save()

    def memory_bytes(self) -> int:
        total = self.image.memory_bytes()
        if self._latex is not None:
            total += self._latex.memory_bytes()
        return total


__all__ = ["IndexSync", "decode_ink", "encode_ink"]
