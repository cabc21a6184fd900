"""Real news text for the matcher benchmarks, read in place (never from the network).

- articles: the labelled news of ../shared/eval (English and Japanese), the ground-truth texts of
  the corpus pages (../shared/corpus/articles/*.expected.txt) and every entry of the corpus feeds
  (title and summary, markup stripped);
- a vocabulary drawn from that text, for generated topics: words, names (runs of capitalised
  words), two-word phrases, and Japanese nouns cut by the same analyser the matcher uses.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from pipeline.models import Article, ExtractionMethod

SHARED = Path(__file__).resolve().parents[2] / "shared"
EVAL_ITEMS = SHARED / "eval" / "items.jsonl"
CORPUS = SHARED / "corpus"
_TAG = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"\s+")
# Words a query can hold as they are: letters only (no operator characters), four or more.
_WORD = re.compile(r"\b[A-Za-z][a-z]{3,}\b")
_NAME = re.compile(r"\b[A-Z][a-z]{2,}(?: [A-Z][a-z]{2,}){0,2}\b")
_PAIR = re.compile(r"\b(?=([a-z]{4,} [a-z]{4,})\b)")
# Lower-case operators are refused by the parser; capitalised sentence starts are not names.
_REFUSED = {"and", "or", "not", "near"}
_LOWER = re.compile(r"\b[a-z]+\b")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")


@dataclass(frozen=True)
class RealText:
    articles: list[Article]
    languages: list[str]  # "ja" for an article with Japanese text, else "en" (or the feed's)


@dataclass(frozen=True)
class RealVocabulary:
    words: list[str]
    names: list[str]
    phrases: list[str]
    japanese: list[str]


def _article(index: int, title: str, body: str, source: str, language: str | None) -> Article:
    return Article(
        url=f"https://example.org/real/{index}",
        canonical_url=f"https://example.org/real/{index}",
        title=title,
        body=body,
        published=None,
        author=None,
        language=language,
        source=source,
        method=ExtractionMethod.PAGE,
    )


def _plain(markup: str) -> str:
    return _SPACES.sub(" ", html.unescape(_TAG.sub(" ", markup))).strip()


def load_real_text() -> RealText:
    """Every real article the shared data holds (raises FileNotFoundError if it is absent)."""
    import feedparser

    articles: list[Article] = []
    with EVAL_ITEMS.open(encoding="utf-8") as handle:
        for line in handle:
            item = json.loads(line)
            articles.append(_article(len(articles), item["title"], item["body"], "eval", item.get("lang")))
    for path in sorted((CORPUS / "articles").glob("*.expected.txt")):
        text = path.read_text(encoding="utf-8", errors="replace")
        title, _, body = text.partition("\n")
        articles.append(_article(len(articles), title, body, "corpus", None))
    for path in sorted((CORPUS / "feeds").iterdir()):
        parsed = feedparser.parse(path.read_bytes())
        for entry in parsed.entries:
            title = _plain(entry.get("title", ""))
            body = _plain(entry.get("summary", ""))
            if title or body:
                articles.append(_article(len(articles), title, body, "feed", None))
    languages = ["ja" if _CJK.search(item.title + item.body) else "en" for item in articles]
    return RealText(articles, languages)


def real_vocabulary(text: RealText) -> RealVocabulary:
    """What topics are made of. Each list is ordered by how many articles hold the item, rarest
    first, then alphabetically, so the same data always gives the same vocabulary."""
    import fugashi

    words: Counter[str] = Counter()
    names: Counter[str] = Counter()
    phrases: Counter[str] = Counter()
    japanese: Counter[str] = Counter()
    tagger = fugashi.Tagger()
    written_lower: set[str] = set()
    for item in text.articles:
        content = f"{item.title}\n{item.body}"
        found = set(_WORD.findall(content))
        written_lower.update(_LOWER.findall(content))
        words.update({word.lower() for word in found} - _REFUSED)
        names.update({name for name in _NAME.findall(content) if name.lower() not in _REFUSED})
        phrases.update({pair for pair in _PAIR.findall(content) if not set(pair.split()) & _REFUSED})
        if _CJK.search(content):
            japanese.update(
                {
                    node.surface
                    for node in tagger(content)
                    if node.feature.pos1 == "名詞" and len(node.surface) >= 2 and _CJK.match(node.surface)
                }
            )

    def ordered(counts: Counter[str]) -> list[str]:
        return sorted(counts, key=lambda key: (counts[key], key))

    # A one-word "name" also written in lower case is a sentence start ("The", "After"), not a name.
    names_kept = Counter(
        {name: count for name, count in names.items() if " " in name or name.lower() not in written_lower}
    )
    return RealVocabulary(ordered(words), ordered(names_kept), ordered(phrases), ordered(japanese))
