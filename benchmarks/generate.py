"""Generated topics and articles for the matcher benchmark and the compiled-vs-naive test.

Deterministic (seeded). Articles are English-like: Zipf-distributed words (real
function words at the top, so short terms such as "us" and "war" occur as they
do in news), named entities that topics watch for, curly quotes, dashes, dotted
acronyms, British and American spellings, and some Japanese sentences.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field

from pipeline.models import Article, ExtractionMethod

_FUNCTION_WORDS_TEXT = (
    "the of and to a in that is was he for it with as his on be at by i this had not are but from or have "
    "an they which one you were her all she there would their we him been has when who will more no if out "
    "so said what up its about into than them can only other new some could time these two may then do "
    "first any my now such like our over man me even most made after also did many before must through "
    "back years where much your way well down should because each just those people how too little us "
    "state good very make world still own see men work long get here between both life being under never "
    "day same another know while last might great old year off come since against go came right used take "
    "three war sea air force forces base defence defense programme program reorganisation reorganization "
    "U.S. US Japan Japanese alliance minister ministry budget plan military command headquarters"
)
_FUNCTION_WORDS = _FUNCTION_WORDS_TEXT.split()
_SYLLABLES = [a + b for a in "bcdfghjklmnprstvwz" for b in ("a", "e", "i", "o", "u", "ai", "ou", "ar", "en")]
VOCABULARY_SEED = 7
_KANJI = "防衛省在日米軍統合司令部再編改同盟安保予算強化能力政府首相会談協力地域安全保障海空陸"


@dataclass(frozen=True)
class Vocabulary:
    words: list[str]
    cumulative: list[float]
    entities: list[str]
    entity_cumulative: list[float]
    # What topics pair entities with: ranks 1,000-15,000, where words such as "reorganization",
    # "tariff" or "headquarters" sit in English (the commonest few hundred are not topic words).
    mid_words: list[str]
    cjk_entities: list[str]


def _zipf(count: int, exponent: float) -> list[float]:
    return list(itertools.accumulate(1.0 / (rank**exponent) for rank in range(1, count + 1)))


def vocabulary(
    rng: random.Random,
    size: int = 20_000,
    entities: int = 3_000,
    topic_words: tuple[int, int] = (1_000, 15_000),
) -> Vocabulary:
    made: set[str] = set(_FUNCTION_WORDS)
    words = list(_FUNCTION_WORDS)
    while len(words) < size:
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.choice((1, 2, 2, 3, 3, 4))))
        if word not in made:
            made.add(word)
            words.append(word)
    names: list[str] = []
    while len(names) < entities:
        name = "".join(rng.choice(_SYLLABLES) for _ in range(rng.choice((2, 3)))).capitalize()
        if rng.random() < 0.3:
            name += " " + "".join(rng.choice(_SYLLABLES) for _ in range(2)).capitalize()
        if name.lower() not in made:
            made.add(name.lower())
            names.append(name)
    cjk = ["".join(rng.choice(_KANJI) for _ in range(rng.choice((2, 3, 4)))) for _ in range(300)]
    low, high = topic_words
    return Vocabulary(words, _zipf(len(words), 1.05), names, _zipf(len(names), 0.8), words[low:high], cjk)


def _sentence(rng: random.Random, vocab: Vocabulary) -> str:
    words = rng.choices(vocab.words, cum_weights=vocab.cumulative, k=rng.randint(10, 24))
    if rng.random() < 0.35:
        words.insert(rng.randrange(len(words)), rng.choices(vocab.entities, vocab.entity_cumulative)[0])
    roll = rng.random()
    if roll < 0.08:
        words.insert(rng.randrange(len(words)), "“" + rng.choice(vocab.words[100:3000]) + "”")
    elif roll < 0.14:
        words.insert(rng.randrange(len(words)), "—")
    elif roll < 0.18:
        words.insert(rng.randrange(len(words)), "U.S.–Japan")
    text = " ".join(words)
    if rng.random() < 0.3:
        cut = text.find(" ", len(text) // 2)
        if cut > 0:
            text = text[:cut] + "," + text[cut:]
    return text[0].upper() + text[1:] + "."


def make_article(rng: random.Random, vocab: Vocabulary, index: int, size: int = 5_000) -> Article:
    title = " ".join(
        rng.choices(vocab.words[50:8000], k=rng.randint(5, 9))
        + rng.choices(vocab.entities, vocab.entity_cumulative, k=rng.randint(0, 2))
    ).capitalize()
    sentences: list[str] = []
    length = 0
    # One article in twenty mixes in Japanese sentences (as a bilingual wire would).
    japanese = 0.2 if rng.random() < 0.05 else 0.0
    while length < size:
        if rng.random() < japanese:
            sentence = (
                "".join(
                    rng.choice((rng.choice(vocab.cjk_entities), "は", "の", "を", "、")) for _ in range(12)
                )
                + "。"
            )
        else:
            sentence = _sentence(rng, vocab)
        sentences.append(sentence)
        length += len(sentence) + 1
    return Article(
        url=f"https://example.org/generated/{index}",
        canonical_url=f"https://example.org/generated/{index}",
        title=title,
        body=" ".join(sentences),
        published=None,
        author=None,
        language="en",
        source="generated",
        method=ExtractionMethod.PAGE,
    )


def make_articles(count: int, *, seed: int = 7, size: int = 5_000) -> list[Article]:
    rng = random.Random(seed)
    vocab = vocabulary(random.Random(VOCABULARY_SEED))  # the words topics are made of, whatever the seed
    return [make_article(rng, vocab, index, size) for index in range(count)]


@dataclass
class GeneratedTopic:
    """Shaped like pipeline.config.TopicConfig, as the matcher reads it."""

    query: str
    min_score: float = 1.0
    all: list[str] = field(default_factory=list)
    any: list[str] = field(default_factory=list)
    none: list[str] = field(default_factory=list)


def _entity_term(rng: random.Random, vocab: Vocabulary) -> str:
    name = rng.choices(vocab.entities, vocab.entity_cumulative)[0]
    roll = rng.random()
    if " " in name or roll < 0.2:
        return f'"{name}"'
    if roll < 0.35 and len(name) > 5:
        return name[: len(name) - 2] + "*"
    return name


def make_topics(
    count: int, *, seed: int = 11, topic_words: tuple[int, int] = (1_000, 15_000)
) -> tuple[dict[str, GeneratedTopic], dict[str, list[str]]]:
    """`count` topics in the query language, and the aliases they use; `topic_words` is the band
    of word ranks their non-entity words come from (lower = more common = more work per article)."""
    rng = random.Random(seed)
    vocab = vocabulary(random.Random(VOCABULARY_SEED), topic_words=topic_words)
    aliases = {
        f"group{index}": [_entity_term(rng, vocab).strip('"') for _ in range(rng.randint(3, 6))]
        for index in range(max(10, count // 5))
    }
    topics: dict[str, GeneratedTopic] = {}
    for index in range(count):
        entity = [_entity_term(rng, vocab) for _ in range(3)]
        word = rng.sample(vocab.mid_words, 4)
        alias = f"@{rng.choice(list(aliases))}"
        cjk = rng.choice(vocab.cjk_entities)
        template = rng.randrange(6)
        if template == 0:
            query = f"({entity[0]} OR {entity[1]} OR {entity[2]}) AND ({word[0]} OR {word[1]})"
        elif template == 1:
            query = f"{alias} NEAR/10 ({word[0]} OR {word[1]} OR {word[2]})"
        elif template == 2:
            query = f"title:{entity[0]} OR ({entity[1]} AND {word[0]} NOT {word[1]})"
        elif template == 3:
            name = rng.choices(vocab.entities, vocab.entity_cumulative)[0]
            query = f'"{name} {word[0]}" OR {entity[1]} NEAR/5 {word[1]}'
        elif template == 4:
            query = f"({alias} OR {cjk}) AND {word[0]} AND NOT {word[3]}"
        else:
            query = f"{entity[0]} AND (=US OR defence OR reorgani*) AND {word[2]}"
        topics[f"topic-{index:04d}"] = GeneratedTopic(query, min_score=rng.choice((1, 1, 2, 3)))
    return topics, aliases
