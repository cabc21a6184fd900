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


# The NUM_PERM affine permutations h -> a*h + b (mod 2^32), a odd, as 128 big-endian uint32
# multipliers then 128 offsets: every signature must use the same ones to be comparable. They are
# datasketch 2's "affine32" draws, `numpy.random.RandomState(MINHASH_SEED)`'s `randint(0, 2**31,
# 128) * 2 + 1`, then `randint(0, 2**32, 128)` (tests/test_dedup.py draws them again), written out
# because importing numpy.random for them cost the daemon 7 MB and 20 ms.
_PERMUTATIONS_HEX = (
    "500414a726bab52797f93e59c51895cbc33e23f10f700a398709779b614e38cbed7df9e752ee16e11ec55b199e20eab5"
    "8dc4f3872aad82736c76b3c93279ef357c9b0079a11afda5eb85ddc3fffb70df57650767f9ff6a8fe1cef6572f5b8837"
    "493637c94902209f71ebf87b1cc1364b924f6df759eb61732ff10ed7f464a42312f446c15a8944b78cebbc5db186be95"
    "215597432cbc4e57430c142959e0ca4d65354185f49432c582d6df39397ad4956e5c1e87e06e69e1a704ecf776911e29"
    "dd613a4546010383a60d2911f86865ad0cdb4163bc0da44f62640c47dd2f26adc392ad5f191798551020fc03fff0e215"
    "b5269d3f39513089469ee53d901ca1393d568cdb95a8adf1b304d931a4d64af3752f0625d225e03559c18411607da7f1"
    "4accf6032f47672dadde7929d29ac97975e2b48321a91df3b692a807c764b21b4a1c126bb0dc18db34c49fdda87a1215"
    "66a8728b83d9a9fbabe2566327cef1a9f3496b05f3370c9f0ba81699024b2f5d42ad78e9c8bcf937b8cff17d8c0e7359"
    "038a108fcebf0879f2e5230f24ab86955fb4ce1d962b7d73ccaa61eb78dc953b17fac6b96114a523d5a9c58d3d078eab"
    "495825a9087a9905e95613fd343c14311b276aed74e5076d5875fe67d81a6f5bf7e5bc6715b5d53fe68381d5af2c02a5"
    "30e640159e3db4efcd78e4bf3a760cbbee3531898750845705c14dbf45510817221c977ecaf1a7ef8bdbccd0d868d68a"
    "182ab79e68fcd9e5c92288295fc15a57b9a06e0fdb2f622c6364b99acf29c8305a12b472bb04bae3b619896449e9bb22"
    "700e01eb3cb0c5c1b0528249ca00cf02ed20e16f8d6a3d41f203f8e5c5d52790679c849fbb97696bf84cc9b2a68d0f68"
    "e8b2412be88f02851b31a9853ac0a889912af630838803d364ccebae0d90075f903098c021d3b13fbb311f29a164e4c7"
    "e9bd8cc4e1adeddc05deaeaab9b77bd760b82b41f412827ca6295fbce8b3f82579fe3bfd81133989ef7a797f6bfa9d14"
    "4ded73489a8f7b53afbad0953a2ce42232783fef7c03dea93841dae51d873eb907a28520a372182f12f22bd8147419fc"
    "d10277ca10967334d12422d87d1540830613c438af0d208618af49f3ef4134f33d4d5bfe1f52c7466e8553efd466ac46"
    "f71051bf2a35b89d4eda5b0155760846338574ed59663bed27da3be94ae5e14811b08ed815623299930bef337ec9eb4b"
    "736da5bf800f217998b1546339f2baad5bcb32f5eadbf52faef31287918d81453f0abd2de049eb660a5de0d6a2afb822"
    "c350abbdcd4b9a7962bff02a92b7b24c5dc5d098833c370109008b4976dbb01425d028a35a4c7fade340253b39ce0bbc"
    "847c9c123dd1101086d84b1940f7b186899f56af58f53533325c33e4d94b88c3179e3c6ef795d12648dd0c6d04416e92"
    "ce5e121255e8c014dc5a8d728de24f53"
)


@cache
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """The multipliers and offsets (see _PERMUTATIONS_HEX)."""
    import numpy as np

    values = np.frombuffer(bytes.fromhex(_PERMUTATIONS_HEX), dtype=">u4").astype(np.uint32)
    return values[:NUM_PERM], values[NUM_PERM:]


def _minhash(shingles: set[str]) -> np.ndarray:
    """The MinHash signature of `shingles`: per permutation, the least permuted hash.

    Computed with numpy alone rather than with datasketch, which imports scipy: about 40 MB and
    half a second of start-up in every process that fingerprints, for arithmetic this short.
    """
    import numpy as np

    # Each shingle's hash is the first 4 bytes of its SHA-1, little-endian: joined and read as one
    # buffer, not converted to an int one at a time (a third less CPU over a page's shingles).
    sha1 = hashlib.sha1
    digests = b"".join([sha1(shingle.encode()).digest()[:4] for shingle in shingles])
    hashes = np.frombuffer(digests, dtype="<u4").astype(np.uint32).reshape(-1, 1)
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
