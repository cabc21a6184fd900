"""Identity of articles: canonical URLs, content fingerprints and story clusters. Pure, no I/O.

Three levels, from strict to loose:

1. `canonical_url`: the same link however a feed spelled it (courlan; tracking parameters and
   fragments removed). One stored article per canonical URL.
2. `content_fingerprint`: the same text reached through two different URLs (a mirror, an AMP
   page, a syndication partner) is the same article: stored once, with both sources.
3. `similarity_signature`: a MinHash of word 3-shingles (the signatures of datasketch's
   "affine32" scheme). Articles whose estimated Jaccard similarity passes a threshold are one
   *story* (the same wire copy lightly edited by several outlets). Candidates are found by
   locality-sensitive hashing: the signature is cut into bands and two articles are compared only
   if they share a band, so the store can look them up with an index instead of comparing
   against every article.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from pipeline.models import ArticleFingerprint, FeedEntry, StoryCandidate

if TYPE_CHECKING:
    import numpy as np

# 128 permutations cut into 32 bands of 4 rows: two articles share at least one band with
# probability 1 - (1 - J^4)^32, i.e. ~50% at J=0.42, 93% at J=0.6, 99.9% at J=0.75.
NUM_PERM = 128
# Shingles permuted at a time: 256 x 128 x 4 bytes = 128 KB, glibc's default mmap threshold.
MINHASH_BLOCK = 256
BAND_ROWS = 4
BANDS = NUM_PERM // BAND_ROWS
SHINGLE_WORDS = 3
MINHASH_SEED = 20261125
# Below this much text, an identical fingerprint says little (a stock teaser), and a signature
# over a handful of shingles is noise; such articles stay their own story.
MIN_FINGERPRINT_CHARS = 200
MIN_SHINGLES = 12

# A CJK character is a word of its own (those scripts put no spaces between words).
_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]|[^\W_]+")


def canonical_url(url: str) -> str:
    """The key an article is stored under, however a feed spelled its link.

    courlan lowercases the host, drops default ports, sorts the query and removes
    tracking parameters (utm_*, fbclid, ...); the fragment never names a
    different article, so it goes too.
    """
    # Imported here: a cycle where every feed answers 304 never builds a key, and courlan (with
    # tld and urllib3) is a tenth of the start-up of `newswatch once`.
    import courlan

    try:
        normalised = courlan.normalize_url(url.strip())
    except ValueError:
        normalised = url.strip()
    parts = urlsplit(normalised)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def entry_key(entry: FeedEntry, feed_url: str) -> str:
    """A stable key for an entry: its canonical link, or a tag URI for entries without one."""
    if entry.link and urlsplit(entry.link).scheme in ("http", "https"):
        return canonical_url(entry.link)
    identity = entry.guid or f"{entry.title}\n{entry.summary}"
    digest = hashlib.sha256(f"{feed_url}\n{identity}".encode()).hexdigest()[:32]
    return f"urn:newswatch:entry:{digest}"


def words(text: str) -> list[str]:
    """Case-, width- and punctuation-insensitive tokens: what an edit of layout does not change."""
    return _TOKEN.findall(unicodedata.normalize("NFKC", text).casefold())


def content_fingerprint(body: str) -> str | None:
    """SHA-256 of the body's words, or None when the body is too short to identify an article."""
    tokens = words(body)
    if sum(len(token) for token in tokens) < MIN_FINGERPRINT_CHARS:
        return None
    return hashlib.sha256(" ".join(tokens).encode()).hexdigest()


# MurmurHash3's 32-bit finalizer (shift, multiplier, shift, multiplier, shift).
_FMIX32 = (16, 0x85EBCA6B, 13, 0xC2B2AE35, 16)


@cache
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """The NUM_PERM affine permutations h -> a*h + b (mod 2^32), a odd; every signature must use
    the same ones to be comparable. Drawn exactly as datasketch 2's "affine32" scheme draws them,
    so signatures are datasketch's (tests/test_dedup.py compares them)."""
    import numpy as np

    generator = np.random.RandomState(MINHASH_SEED)
    multipliers = generator.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    offsets = generator.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return multipliers, offsets


def _minhash(shingles: set[str]) -> np.ndarray:
    """The MinHash signature of `shingles`: per permutation, the least permuted hash.

    Computed with numpy alone rather than with datasketch, which imports scipy: about 40 MB and
    half a second of start-up in every process that fingerprints, for arithmetic this short.
    """
    import numpy as np

    hashes = np.fromiter(
        (int.from_bytes(hashlib.sha1(shingle.encode()).digest()[:4], "little") for shingle in shingles),
        dtype=np.uint32,
        count=len(shingles),
    ).reshape(-1, 1)
    shift1, multiplier1, shift2, multiplier2, shift3 = _FMIX32
    hashes ^= hashes >> shift1
    hashes *= np.uint32(multiplier1)
    hashes ^= hashes >> shift2
    hashes *= np.uint32(multiplier2)
    hashes ^= hashes >> shift3
    multipliers, offsets = _permutations()
    # Permuted in blocks, keeping the running minimum: the whole (shingles x NUM_PERM) matrix is
    # 2 MB for a 4,000-word article, and the daemon computes one in each of its poll threads at
    # once (issue 16: 32 threads added 32 MB to the peak; blocks bound each thread to 128 KB).
    signature = np.full(NUM_PERM, np.iinfo(np.uint32).max, dtype=np.uint32)
    block = np.empty((MINHASH_BLOCK, NUM_PERM), dtype=np.uint32)
    for start in range(0, len(hashes), MINHASH_BLOCK):
        rows = hashes[start : start + MINHASH_BLOCK]
        permuted = block[: len(rows)]
        np.multiply(rows, multipliers, out=permuted)
        permuted += offsets
        np.minimum(signature, permuted.min(axis=0), out=signature)
    return signature


def similarity_signature(title: str, body: str) -> tuple[bytes, tuple[str, ...]] | None:
    """MinHash signature (bytes) and its LSH band keys, or None for too little text."""
    tokens = words(f"{title}\n{body}")
    shingles = {" ".join(tokens[i : i + SHINGLE_WORDS]) for i in range(len(tokens) - SHINGLE_WORDS + 1)}
    if len(shingles) < MIN_SHINGLES:
        return None
    values = _minhash(shingles).astype("<u4")
    return values.tobytes(), band_keys(values)


def band_keys(values: np.ndarray) -> tuple[str, ...]:
    """One key per band of BAND_ROWS signature values, prefixed by the band's number."""
    keys = []
    for band in range(BANDS):
        rows = values[band * BAND_ROWS : (band + 1) * BAND_ROWS].tobytes()
        keys.append(f"{band:02d}{hashlib.blake2b(rows, digest_size=8).hexdigest()}")
    return tuple(keys)


def fingerprint_article(title: str, body: str) -> ArticleFingerprint:
    signature = similarity_signature(title, body)
    return ArticleFingerprint(
        content=content_fingerprint(body),
        signature=signature[0] if signature else None,
        bands=signature[1] if signature else (),
    )


def similarity(signature_a: bytes, signature_b: bytes) -> float:
    """Estimated Jaccard similarity of the two articles' shingle sets: the share of permutations
    whose least hash the two sets share."""
    import numpy as np

    first = np.frombuffer(signature_a, dtype="<u4")
    second = np.frombuffer(signature_b, dtype="<u4")
    if first.shape != second.shape:
        raise ValueError("signatures of different lengths cannot be compared")
    return float(np.count_nonzero(first == second)) / len(first)


def closest_story(
    signature: bytes, candidates: Iterable[StoryCandidate], threshold: float
) -> tuple[StoryCandidate, float] | None:
    """The most similar candidate at or above `threshold` (`dedup.story_similarity`), with its similarity."""
    best: tuple[StoryCandidate, float] | None = None
    for candidate in candidates:
        score = similarity(signature, candidate.signature)
        if score >= threshold and (best is None or score > best[1]):
            best = (candidate, score)
    return best
