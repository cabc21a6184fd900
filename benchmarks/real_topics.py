"""100,000 topics shaped like real watchlists, made of the words of real news (see real_text.py).

Deterministic (seeded). Each topic is one of a few shapes an analyst writes: a set of names or
an @alias (a reusable set of names) with context words, an exact phrase, NEAR, an exclusion with
NOT, a field scope, a case-sensitive acronym or a prefix, or Japanese nouns. Names, words,
phrases and Japanese nouns are drawn uniformly from the distinct items of the real text, so most
of a topic's terms are as rare as most distinct words of news are.
"""

from __future__ import annotations

import random

from benchmarks.generate import GeneratedTopic
from benchmarks.real_text import RealVocabulary

_TEMPLATES = 7


def _name(rng: random.Random, vocab: RealVocabulary) -> str:
    name = rng.choice(vocab.names)
    roll = rng.random()
    if " " in name:
        return f'"{name}"'
    if roll < 0.15 and len(name) > 6:
        return name[: len(name) - 2] + "*"
    return name


def make_real_topics(
    count: int, vocab: RealVocabulary, *, seed: int = 16
) -> tuple[dict[str, GeneratedTopic], dict[str, list[str]]]:
    """`count` topics in the query language and the aliases they use (one alias per five topics)."""
    rng = random.Random(seed)
    aliases = {
        f"names{index}": [_name(rng, vocab).strip('"') for _ in range(rng.randint(3, 6))]
        for index in range(max(10, count // 5))
    }
    alias_names = list(aliases)
    topics: dict[str, GeneratedTopic] = {}
    for index in range(count):
        names = [_name(rng, vocab) for _ in range(3)]
        words = rng.sample(vocab.words, 4)
        alias = "@" + rng.choice(alias_names)
        phrase = rng.choice(vocab.phrases)
        japanese = rng.sample(vocab.japanese, 2)
        template = rng.randrange(_TEMPLATES)
        if template == 0:
            query = f"({names[0]} OR {names[1]} OR {names[2]}) AND ({words[0]} OR {words[1]})"
        elif template == 1:
            query = f"{alias} NEAR/10 ({words[0]} OR {words[1]} OR {words[2]})"
        elif template == 2:
            query = f"title:{names[0]} OR ({names[1]} AND {words[0]} NOT {words[1]})"
        elif template == 3:
            query = f'"{phrase}" OR {names[1]} NEAR/5 {words[1]}'
        elif template == 4:
            query = f"({alias} OR {japanese[0]}) AND {words[0]} AND NOT {words[3]}"
        elif template == 5:
            query = f"{names[0]} AND (=US OR defence OR {words[2][:4]}*) AND {words[2]}"
        else:
            query = f"{japanese[0]} AND ({japanese[1]} OR {words[0]})"
        topics[f"topic-{index:06d}"] = GeneratedTopic(query, min_score=rng.choice((1, 1, 2, 3)))
    return topics, aliases


def aliases_used(topics: dict[str, GeneratedTopic], aliases: dict[str, list[str]]) -> dict[str, list[str]]:
    """Only the aliases these topics refer to (a config holds the aliases its topics use)."""
    used = {
        word[1:]
        for topic in topics.values()
        for word in topic.query.replace("(", " ").replace(")", " ").split()
        if word.startswith("@")
    }
    return {name: terms for name, terms in aliases.items() if name in used}
