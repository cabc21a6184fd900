"""The compiled matcher (shared Aho-Corasick pre-filter, candidate topics only) gives exactly the
verdicts of the naive one (every topic's regexes over the whole article), and recompiles only on change."""

from __future__ import annotations

import random
import re

import pytest

from benchmarks.generate import GeneratedTopic, make_articles, make_topics
from pipeline.config import parse_config
from pipeline.match import Matcher, topics_fingerprint
from pipeline.match.reference import NaiveMatcher
from pipeline.models import Article, ExtractionMethod, Verdict
from tests.support.configs import shipped_document

_QUERY_WORD = re.compile(r"[^\s()\"*:=@]+")
_OPERATORS = {"AND", "OR", "NOT", "title", "body"} | {f"NEAR/{distance}" for distance in range(30)}


def article(title: str, body: str) -> Article:
    return Article("u", "u", title, body, None, None, None, "test", ExtractionMethod.PAGE)


def summary(verdicts: list[Verdict]) -> list[tuple[str, bool, float, list[tuple[str, int, int, str]]]]:
    return [
        (
            verdict.topic,
            verdict.matched,
            verdict.score,
            [(h.field, h.start, h.end, h.term) for h in verdict.hits],
        )
        for verdict in verdicts
    ]


TRICKY = [
    article("U.S.–Japan alliance: USFJ upgrade", "The U.S.-Japan alliance… USFJ’s reorganisation into a HQ."),
    article("Ｕ．Ｓ． forces", "在日米軍USFJ司令部を統合軍司令部に再編。US troops, us, Us, U.S.A., u.s."),
    article("forces force forces'", "joint force headquarters joint force headquarters headquarters"),
    article("", "defence defense defences programme programs armoured armored travelled traveled"),
    article("e\u0301te\u0301 ﬁne ﾄｳｷｮｳ", "café USFJ—reorganization… “USFJ” (USFJ) [USFJ] USFJ's USFJs"),
]


@pytest.mark.slow
def test_compiled_and_naive_matchers_agree_on_generated_news() -> None:
    topics, aliases = make_topics(150, seed=3, topic_words=(300, 5000))  # common words: more matches
    compiled = Matcher(topics, aliases)
    naive = NaiveMatcher(compiled)
    articles = make_articles(50, seed=5, size=2500) + TRICKY
    # Articles that mention what some topics look for (not always enough to match), in the title
    # or in the body, so that matches, NEAR distances and NOT exclusions are all exercised.
    rng = random.Random(9)
    for index, base in enumerate(make_articles(40, seed=6, size=2000)):
        words = []
        for topic in rng.sample(list(topics.values()), 3):
            words += [word for word in _QUERY_WORD.findall(topic.query or "") if word not in _OPERATORS]
        rng.shuffle(words)
        cut = rng.randrange(len(base.body))
        mention = " ".join(words[: rng.randint(2, len(words))])
        title = base.title + (" " + mention if index % 3 == 0 else "")
        articles.append(article(title, base.body[:cut] + " " + mention + ". " + base.body[cut:]))
    matched = 0
    for item in articles:
        reference = naive.evaluate(item)
        assert summary(compiled.evaluate(item)) == summary(reference), item.title
        fast = compiled.match(item)
        assert summary(fast) == summary([verdict for verdict in reference if verdict.matched])
        matched += len(fast)
    assert matched >= 20  # the comparison covered real matches, not only empty verdicts


def test_compiled_and_naive_agree_on_the_shipped_topics() -> None:
    config = parse_config(shipped_document())
    compiled = Matcher.from_topics(config.topics, config.aliases)
    naive = NaiveMatcher(compiled)
    for item in TRICKY:
        assert summary(compiled.evaluate(item)) == summary(naive.evaluate(item))


def test_phrases_sharing_a_first_word_agree_with_the_naive_matcher() -> None:
    # Enough phrases begin with "the" (and "u.s.") that the key dispatches them by what follows
    # the first word: every separator, apostrophe, dotted acronym, plural, prefix and comma case
    # must still find exactly what each phrase's own regex finds.
    phrases = [
        '"the finnish army"',
        '"the defence ministry"',
        '"the U.S. Navy"',
        '"the USFJ"',
        "the-kaga",
        '"the o\'neill case"',
        '"the navies"',
        "the fleet*",
        '"the, army"',
        '"the 在日米軍"',
        "the2nd",
        '"the ship"',
        '"U.S. Navy"',
        '"us navy"',
        '"U.S. forces"',
        '"U.S. Marine Corps"',
    ]
    topics = {f"p{index}": GeneratedTopic(phrase) for index, phrase in enumerate(phrases)}
    compiled = Matcher(topics, {})
    naive = NaiveMatcher(compiled)
    texts = [
        "The Finnish army and the  -  defense ministry; the U.S. Navy, the u.s.navy and the USFJ.",
        "the-kaga, the o'neill case, THE NAVY, the navies, the fleets, the fleetwood, the, army",
        "the 在日米軍 and the在日米軍, the2nd, the ship's, the ships, the\tship, the/ship, the%ship",
        "U.S. Navy, U.S.  Navy, us-navy, U.S. Marine Corps, u.s. forces, the U.S.Navy, theship",
    ]
    found = 0
    for text in texts:
        item = article(text[:30], text)
        assert summary(compiled.evaluate(item)) == summary(naive.evaluate(item)), text
        found += len(compiled.match(item))
    assert found >= 8


def test_only_topics_whose_terms_occur_are_candidates() -> None:
    topics = {
        f"t{index}": GeneratedTopic(f"name{index} AND (word{index} OR other{index})") for index in range(300)
    }
    topics["alias"] = GeneratedTopic("@group AND word7")
    matcher = Matcher(topics, {"group": ["Alpha Beta", "gamma*"]})
    scanned = matcher.scan(article("name7 word7", "name8 alone, other9 alone, gammas, word7"))
    assert [topic.name for topic in matcher.candidates(scanned)] == ["t7", "alias"]
    assert [verdict.topic for verdict in matcher.match(article("name7 word7", "gammas"))] == ["t7", "alias"]
    assert matcher.match(article("nothing here", "name8 without its word")) == []


def test_recompiles_only_when_topics_or_aliases_change() -> None:
    topics = {"t": GeneratedTopic("USFJ AND @reorg")}
    aliases = {"reorg": ["reorgani*"]}
    matcher = Matcher(topics, aliases)
    assert matcher.reloaded({"t": GeneratedTopic("USFJ AND @reorg")}, {"reorg": ["reorgani*"]}) is matcher
    assert matcher.fingerprint == topics_fingerprint(topics, aliases)
    changed_alias = matcher.reloaded(topics, {"reorg": ["reorgani*", "upgrade"]})
    assert changed_alias is not matcher
    assert changed_alias.match(article("USFJ upgrade", ""))
    changed_score = matcher.reloaded({"t": GeneratedTopic("USFJ AND @reorg", min_score=9)}, aliases)
    assert changed_score is not matcher and changed_score.fingerprint != matcher.fingerprint


@pytest.mark.parametrize(
    ("query", "decided"),
    [
        ("alpha", True),
        ("@group", True),
        ("(alpha OR beta) AND (gamma OR @group)", True),
        ("alpha AND (beta OR gamma) AND delta", True),
        ("(alpha AND beta) OR gamma", False),  # an OR of an AND: one term of the union is not enough
        ("alpha AND NOT beta", False),
        ("alpha NEAR/5 beta", False),
        ("title:alpha AND beta", False),
    ],
)
def test_topics_whose_trigger_groups_decide_them_skip_the_presence_test(query: str, decided: bool) -> None:
    matcher = Matcher({"t": GeneratedTopic(query)}, {"group": ["delta", "epsilon"]})
    topic = matcher.topics["t"]
    assert topic.decided_by_triggers is decided
    # Where the groups decide, every way of their all holding makes the presence test true too.
    words = ["alpha", "beta", "gamma", "delta", "epsilon"]
    for mask in range(1, 2 ** len(words)):
        body = " ".join(word for index, word in enumerate(words) if mask >> index & 1)
        scanned = matcher.scan(article("nothing here", body))
        groups_hold = all(not group.isdisjoint(scanned.present) for group in topic.triggers)
        if decided:
            assert topic.holds(matcher._evaluator(scanned)) is groups_hold, body


def test_an_or_of_an_and_needs_a_term_of_each_distributed_group() -> None:
    # alpha OR (beta AND gamma) is (alpha OR beta) AND (alpha OR gamma): gamma alone is not enough.
    matcher = Matcher({"t": GeneratedTopic("title:alpha OR (beta AND gamma AND NOT delta)")}, {})
    topic = matcher.topics["t"]
    ids = {matcher.terms[term_id].spec.tokens[0].text: term_id for term_id in range(len(matcher.terms))}
    assert set(topic.triggers) == {
        frozenset({ids["alpha"], ids["beta"]}),
        frozenset({ids["alpha"], ids["gamma"]}),
    }
    assert matcher.candidates(matcher.scan(article("nothing", "gamma only"))) == []
    assert [t.name for t in matcher.candidates(matcher.scan(article("nothing", "beta and gamma")))] == ["t"]
    assert [v.topic for v in matcher.match(article("alpha", "beta and gamma"))] == ["t"]
