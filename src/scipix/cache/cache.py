"""The similarity cache: exact and verified-vector tiers over SQLite, plus LaTeX search.

Lookup: normalise the image's ink; entries with the same exact key are verified first, then the
nearest image embeddings above ``cache.threshold``. Nothing is served unless
:func:`scipix.cache.verify.compare` accepts the stored ink as the same formula. Only
:meth:`SimilarityCache.store` writes, and it takes an engine's :class:`OcrResult` for the image
the engine saw; there is no way to attach other LaTeX to an image.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from scipix.cache.embed import EMBED_VERSION, image_embedding, latex_embedding
from scipix.cache.index import VectorIndex
from scipix.cache.normalize import NormalizedInk, normalize
from scipix.cache.options import CacheOptions
from scipix.cache.payload import StoredResult, decode_payload, encode_payload, load_encryptor
from scipix.cache.store import EntryRow, MetadataStore, NewEntry
from scipix.cache.sync import IndexSync, decode_ink, encode_ink
from scipix.cache.verify import compare
from scipix.errors import CacheError
from scipix.io import DecodedImage
from scipix.types import OcrResult

if TYPE_CHECKING:
    from scipix.config import CacheConfig

log = logging.getLogger(__name__)

Tier = Literal["exact", "vector"]
MB = 1024 * 1024
PRUNE_EVERY = 1024


@dataclass(frozen=True, slots=True)
class CacheHit:
    """A verified hit: the cached result (``cached=True``) and how it was found."""

    result: OcrResult
    tier: Tier
    similarity: float
    entry_id: int
    window_diff: float


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One answer of :meth:`SimilarityCache.search`."""

    entry_id: int
    latex: str
    similarity: float
    confidence: float
    hits: int
    created: float


@dataclass(frozen=True, slots=True)
class CacheStats:
    """Counters are shared by every process using the cache directory."""

    entries: int
    memory_mb: float
    disk_mb: float
    size_limit_mb: float
    hits: int
    misses: int
    hit_rate: float
    exact_hits: int
    vector_hits: int
    rejected: int
    evictions: int
    backend: str
    dtype: str
    encrypted: bool


class SimilarityCache:
    """Open with :meth:`open` (from ``settings.cache``) or the constructor; thread-safe."""

    def __init__(self, options: CacheOptions) -> None:
        self.options = options
        options.dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._encryptor = load_encryptor(options.encrypt, options.encryption_key_env)
        self._db_path = options.dir / "cache.db"
        self._pid = os.getpid()
        self._store = MetadataStore(self._db_path)
        self._check_embedding_version()
        self._check_producer()
        self._sync = IndexSync(options, self._store, self._latex_of)

    @classmethod
    def open(cls, config: CacheConfig, producer: str | None = None) -> SimilarityCache:
        """Open (creating if needed) the cache described by ``settings.cache``; ``producer``
        names what fills it (see :func:`scipix.engines.registry.cache_producer`)."""
        return cls(CacheOptions.from_config(config, producer))

    def _check_embedding_version(self) -> None:
        self._clear_unless("embedding", f"{EMBED_VERSION}:{self.options.dimension}")

    def _check_producer(self) -> None:
        """Drop results another model stored: a new model must not answer with old readings."""
        if self.options.producer is not None:
            self._clear_unless("producer", self.options.producer)

    def _clear_unless(self, key: str, want: str) -> None:
        """Clear the cache when its recorded ``key`` (embedding, producer) is not ``want``."""
        with self._store.transaction():
            have = self._store.meta(key)
            if have == want:
                return
            if have is not None:
                log.warning("cache %s changed (%s -> %s): clearing the cache", key, have, want)
            # an unrecorded key on a filled cache (made before it was recorded) clears it too
            self._store.clear()
            self._store.set_meta(key, want)

    def _db(self) -> MetadataStore:
        """The store of this process (a forked child opens its own connection)."""
        if os.getpid() != self._pid:
            self._pid = os.getpid()
            self._store = MetadataStore(self._db_path)
            self._sync.store = self._store
        return self._store

    # --- lookup ------------------------------------------------------------------------------

    def lookup(self, image: DecodedImage) -> CacheHit | None:
        """A verified cached result for ``image``, or None (a miss)."""
        start = time.perf_counter()
        ink = normalize(image)
        if ink is None:
            return None
        with self._lock:
            store = self._db()
            self._sync.refresh()
            tried: set[int] = set()
            rejected = 0
            for row in store.by_key(ink.key):
                tried.add(row.id)
                hit = self._try(row, ink, image, "exact", 1.0, start)
                if hit is not None:
                    return self._record_hit(hit, rejected)
                rejected += 1
            vector = image_embedding(ink, self.options.dimension)
            for n in self._sync.image.search(vector, self.options.candidates):
                if n.similarity < self.options.threshold:
                    break
                if n.key in tried:
                    continue
                tried.add(n.key)
                cand = store.get(n.key)
                if cand is None:
                    continue
                hit = self._try(cand, ink, image, "vector", n.similarity, start)
                if hit is not None:
                    return self._record_hit(hit, rejected)
                rejected += 1
            with store.transaction():
                store.bump("misses")
                if rejected:
                    store.bump("rejected", rejected)
            return None

    def _try(
        self,
        row: EntryRow,
        ink: NormalizedInk,
        image: DecodedImage,
        tier: Tier,
        sim: float,
        start: float,
    ) -> CacheHit | None:
        verdict = compare(ink, decode_ink(row.ink, row.ink_scale))
        if not verdict.accepted:
            log.debug("cache candidate %d (%s) rejected: %s", row.id, tier, verdict.reason)
            return None
        try:
            stored = decode_payload(row.payload, row.encrypted, self._encryptor)
        except CacheError as exc:
            log.warning("cache entry %d unreadable: %s", row.id, exc)
            return None
        result = stored.to_result(
            ink.bbox, (image.width, image.height), time.perf_counter() - start
        )
        return CacheHit(result, tier, sim, row.id, verdict.window_diff)

    def _record_hit(self, hit: CacheHit, rejected: int) -> CacheHit:
        store = self._store
        with store.transaction():
            store.touch(hit.entry_id)
            store.bump("hits")
            store.bump(f"{hit.tier}_hits")
            if rejected:
                store.bump("rejected", rejected)
        return hit

    # --- store -------------------------------------------------------------------------------

    def store(self, image: DecodedImage, result: OcrResult) -> int | None:
        """Remember an engine's ``result`` for ``image``; the entry id, or None if not stored."""
        if result.is_empty or result.cached or result.confidence < self.options.min_confidence:
            return None
        ink = normalize(image)
        if ink is None:
            return None
        stored = StoredResult.from_result(result, ink.bbox)
        payload, encrypted = encode_payload(stored, self._encryptor)
        vector = image_embedding(ink, self.options.dimension)
        with self._lock:
            store = self._db()
            self._sync.refresh()
            for row in store.by_key(ink.key):
                if compare(ink, decode_ink(row.ink, row.ink_scale)).accepted:
                    with store.transaction():
                        store.replace_payload(row.id, payload, encrypted, result.confidence)
                    return row.id
            ink_png = encode_ink(ink)
            emb = vector.astype(np.float16).tobytes()
            size = len(ink_png) + len(emb) + len(payload) + self._sync.bytes_per_vector + 160
            entry = NewEntry(
                key=ink.key,
                ink=ink_png,
                ink_scale=ink.scale,
                bbox_height=ink.bbox[3],
                embedding=emb,
                payload=payload,
                encrypted=encrypted,
                confidence=result.confidence,
                engine=result.engine,
                size_bytes=size,
            )
            with store.transaction():
                entry_id = store.insert(entry)
                self._evict(store)
                if entry_id % PRUNE_EVERY == 0:
                    store.prune_changes()  # processes further behind rebuild from SQLite
            self._sync.refresh()
            return entry_id

    def _evict(self, store: MetadataStore) -> None:
        limit = self.options.size_bytes
        used = store.counters().get("bytes", 0)
        if used <= limit:
            return
        target = int(limit * 0.9)
        victims: list[int] = []
        for entry_id, size in store.lru(max(16, store.count() // 10)):
            if used <= target:
                break
            victims.append(entry_id)
            used -= size
        removed = store.delete(victims)
        store.bump("evictions", removed)
        log.info("cache over %d MB: evicted %d entries", limit // MB, removed)

    # --- search, stats, clear --------------------------------------------------------------

    def _latex_of(self, entry_id: int, payload: bytes, encrypted: bool) -> str | None:
        try:
            return decode_payload(payload, encrypted, self._encryptor).latex
        except CacheError as exc:
            log.debug("no LaTeX for entry %d: %s", entry_id, exc)
            return None

    def search(self, latex: str, k: int = 10) -> list[SearchHit]:
        """Cached formulas whose LaTeX is most like ``latex`` (character n-gram similarity)."""
        k = max(1, min(int(k), 100))
        if not latex.strip():
            return []
        with self._lock:
            store = self._db()
            self._sync.refresh()
            index: VectorIndex = self._sync.latex_index()
            hits: list[SearchHit] = []
            for n in index.search(latex_embedding(latex, self.options.dimension), k):
                row = store.get(n.key)
                if row is None:
                    continue
                text = self._latex_of(row.id, row.payload, row.encrypted)
                if text is None:
                    continue
                hits.append(
                    SearchHit(row.id, text, n.similarity, row.confidence, row.hits, row.created)
                )
            return hits

    def stats(self) -> CacheStats:
        with self._lock:
            store = self._db()
            self._sync.refresh()
            c = store.counters()
            hits, misses = c.get("hits", 0), c.get("misses", 0)
            disk = sum(
                p.stat().st_size
                for p in (self._db_path, self._db_path.with_name("cache.db-wal"))
                if p.exists()
            )
            return CacheStats(
                entries=store.count(),
                memory_mb=self._sync.memory_bytes() / MB,
                disk_mb=(disk + self._sync.files.disk_bytes()) / MB,
                size_limit_mb=self.options.size_bytes / MB,
                hits=hits,
                misses=misses,
                hit_rate=hits / (hits + misses) if hits + misses else 0.0,
                exact_hits=c.get("exact_hits", 0),
                vector_hits=c.get("vector_hits", 0),
                rejected=c.get("rejected", 0),
                evictions=c.get("evictions", 0),
                backend=self.options.backend,
                dtype=self.options.dtype,
                encrypted=self._encryptor is not None,
            )

    def clear(self) -> None:
        """Forget every entry (in every process sharing the directory) and reset the counters."""
        with self._lock:
            store = self._db()
            with store.transaction():
                store.clear()
                for name in (
                    "hits",
                    "misses",
                    "exact_hits",
                    "vector_hits",
                    "rejected",
                    "evictions",
                ):
                    store.bump(name, -store.counters().get(name, 0))
            self._sync.refresh()
            self._sync.save()

    def save(self) -> None:
        """Write the vector index to disk now (it is also saved every ``save_every`` changes)."""
        with self._lock:
            self._db()
            self._sync.refresh()
            self._sync.save()

    def close(self) -> None:
        with self._lock:
            if os.getpid() == self._pid:
                self._sync.save_if_dirty()
                self._store.close()

    def __enter__(self) -> SimilarityCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["CacheHit", "CacheStats", "SearchHit", "SimilarityCache", "Tier"]
