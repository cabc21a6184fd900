"""The shipped watchlists on the kinds of story real reporting carries, and the matching that serves them.

Each case stands for a class the topic definitions (../shared/eval/TOPICS.md) name, written here in
our own words: short feed summaries that must match, long stories with a passing mention that
must not, the hard near-misses (business alliances, other countries' commands and budgets,
sport), and Japanese text where word edges and NEAR distances matter. How well the watchlists do
on real labelled news is measured by `newswatch eval` (tests/test_eval_set.py).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.config import parse_config
from pipeline.match import Matcher, QueryError
from pipeline.match.japanese import words
from pipeline.match.query import parse_query
from pipeline.models import Verdict
from tests.support.articles import article
from tests.support.configs import shipped_document

USFJ, ALLIANCE, BUILDUP = "usfj-reorganisation", "us-japan-alliance", "japan-defence-buildup"


@pytest.fixture(scope="module")
def shipped() -> Matcher:
    config = parse_config(shipped_document())
    return Matcher.from_topics(config.topics, config.aliases)


def topics_of(matcher: Matcher, title: str, body: str) -> set[str]:
    return {verdict.topic for verdict in matcher.match(article(title, body))}


def filler(sentences: int) -> str:
    """Paragraphs of a story about something else entirely."""
    lines = [
        "The city council met on Tuesday to discuss the budget for parks and libraries.",
        "Residents asked for longer opening hours and more benches along the river.",
        "The mayor said the plan would be put to a vote next month after a public hearing.",
    ]
    return "\n".join(lines[index % 3] for index in range(sentences))


# --- short feed summaries: two sentences clearly about the topic match ----------------------------


@pytest.mark.parametrize(
    ("title", "body", "topic"),
    [
        (
            "Marines and Japanese troops wrap up Resolute Dragon on Hokkaido",
            "U.S. Marines and Ground Self-Defense Force soldiers ended two weeks of live-fire training.",
            ALLIANCE,
        ),
        (
            "Futenma helicopter window falls near school",
            "A window fell from a U.S. military helicopter onto a field in Ginowan, the prefecture said.",
            ALLIANCE,
        ),
        (
            "U.S. Forces Japan names first officers for joint force headquarters",
            "The command said the first staff for its new operational headquarters arrive in spring.",
            USFJ,
        ),
        (
            "Cabinet approves record defense budget",
            "Japan's cabinet approved defense spending of 9 trillion yen for next year, a record.",
            BUILDUP,
        ),
        (
            "防衛費、過去最大の9兆円 来年度予算案",
            "政府は来年度の防衛費を過去最大とする方針を決めた。",
            BUILDUP,
        ),
        ("在日米軍の統合軍司令部化、第2段階へ", "在日米軍は司令部機能の強化を進めている。", USFJ),
    ],
)
def test_short_summaries_about_the_topic_match(shipped: Matcher, title: str, body: str, topic: str) -> None:
    assert topic in topics_of(shipped, title, body)


# --- long stories with a passing mention do not ------------------------------------------------


@pytest.mark.parametrize(
    ("title", "clause", "topic"),
    [
        (
            "Evacuees wait for food in shelters",
            "The U.S. military and Self-Defense Forces flew in supplies.",
            ALLIANCE,
        ),
        (
            "City passes parks budget",
            "Japan's defense spending also rose this year, officials noted.",
            BUILDUP,
        ),
        ("Council weighs library hours", "USFJ is meanwhile turning into a joint force headquarters.", USFJ),
    ],
)
def test_a_passing_mention_in_a_long_unrelated_story_does_not_match(
    shipped: Matcher, title: str, clause: str, topic: str
) -> None:
    body = filler(4) + "\n" + clause + "\n" + filler(4)
    verdict = next(v for v in shipped.evaluate(article(title, body)) if v.topic == topic)
    assert not verdict.matched
    assert any(
        "passing mention" in reason or "below the" in reason
        for reason in verdict.explanation.reasons_not_matched
    ), verdict.explanation.reasons_not_matched


def test_the_same_mention_in_the_lead_of_a_story_about_it_matches(shipped: Matcher) -> None:
    body = "U.S. Forces Japan is turning into a joint force headquarters, officials said.\n" + filler(4)
    assert USFJ in topics_of(shipped, "Command changes in Tokyo", body)


def test_one_paragraph_wholly_about_the_topic_counts_in_a_story_about_something_else(
    shipped: Matcher,
) -> None:
    # The definitions count "at least one paragraph of real content": the topic runs through every
    # sentence of this one, unlike the one-sentence mention above.
    paragraph = (
        "Separately, U.S. Marines and Ground Self-Defense Force troops began the Resolute Dragon "
        "exercise in Hokkaido. The U.S. and Japanese forces will drill together on Camp Zama and "
        "at Yausubetsu range. Officials at U.S. Forces Japan said the Marines will fire HIMARS "
        "rockets with the GSDF."
    )
    body = filler(4) + "\n" + paragraph + "\n" + filler(4)
    assert ALLIANCE in topics_of(shipped, "Council weighs library hours", body)


def test_a_two_sentence_closing_reaction_is_a_passing_mention(shipped: Matcher) -> None:
    # Each sentence carries one word of the topic: the shape of a reaction at the end of a story
    # about something else, not a paragraph about the alliance.
    body = (
        "米大統領選は5日投開票され、共和党の候補が勝利を確実にした。\n"
        "候補は支持者を前に演説し、議会選でも共和党が上院の多数派を奪還した。\n"
        "首相は「日米同盟をさらなる高みに引き上げたい」とのコメントを出した。"
        "政府内では防衛費増額の要求を警戒する声がある。"
    )
    assert topics_of(shipped, "米大統領選、共和党候補が勝利", body) == set()


def test_a_two_sentence_paragraph_naming_the_topic_throughout_counts(shipped: Matcher) -> None:
    paragraph = (
        "The minister said the command would act as the point of contact with U.S. Forces Japan, "
        "which Washington is upgrading into a joint force headquarters. A U.S. team was sent to "
        "coordinate with the new command while the upgrade proceeds."
    )
    body = filler(4) + "\n" + paragraph + "\n" + filler(4)
    assert USFJ in topics_of(shipped, "Council weighs library hours", body)


def test_sentences_end_at_stops_but_not_after_initials_or_titles() -> None:
    from pipeline.match.evaluate import paragraph_starts, sentence_starts

    text = 'the u.s. navy and gen. smith met on nov. 3. they agreed.\n"we will," he said! 日本だ。米軍も'
    starts = sentence_starts(text, paragraph_starts(text))
    assert [text[start : start + 4] for start in starts] == ["the ", "they", '"we ', "日本だ。", "米軍も"]


def test_score_needed_grows_with_length_but_not_in_proportion() -> None:
    from pipeline.match.evaluate import required_score

    assert required_score(3, 40) == pytest.approx(1.1, abs=0.05)
    assert required_score(3, 300) == 3
    assert required_score(3, 1200) == 6
    assert required_score(0, 1200) == 0


# --- hard near-misses: shared vocabulary, other subject --------------------------------------------


@pytest.mark.parametrize(
    ("title", "body"),
    [
        (  # a business alliance between U.S. and Japanese companies
            "Airlines deepen U.S.-Japan alliance on Pacific routes",
            "The carriers will share revenue on flights between Tokyo and Dallas under their alliance.\n"
            "Regulators approved the joint business after a review of fares.",
        ),
        (  # corporate reorganisation in Japan
            "Electronics maker announces reorganisation into three companies",
            "The Tokyo-based group will restructure its headquarters and split its chip business.\n"
            "Shareholders will vote on the overhaul in June.",
        ),
        (  # U.S. command restructuring in Korea
            "U.S. Forces Korea weighs joint force headquarters",
            "Seoul and Washington are studying a new command structure for the alliance.\n"
            "The review covers wartime operational control and the combined forces command.",
        ),
        (  # another country's defence budget
            "China raises defense budget 7 percent",
            "Beijing's military spending will grow again this year, the finance ministry said.\n"
            "Analysts said the rise keeps pace with the economy.",
        ),
        (  # another country's Joint Operations Command
            "Canada stands up Joint Operations Command",
            "The armed forces merged three headquarters into one operational command on Monday.",
        ),
        (  # trade and tariffs between the U.S. and Japan
            "U.S. and Japan sign beef tariff deal",
            "The trade agreement cuts tariffs on American beef entering Japan from next year.",
        ),
        (  # a city that shares its name with a U.S. base, in local news
            "Two killed in car crash in Sasebo",
            "Two people died when a car hit a utility pole in Sasebo, Nagasaki Prefecture.\n"
            "Police arrested the driver on suspicion of drunk driving.",
        ),
        (  # an SDF warship's port call: diplomacy, not Japan's build-up
            "Japanese destroyer visits Vietnam",
            "The MSDF destroyer Ikazuchi made a port call in Cam Ranh Bay, Vietnam.",
        ),
        (  # a nuclear-power alliance between companies of both countries
            "Hitachi and GE form nuclear alliance",
            "Hitachi and GE Vernova deepened their alliance to build small reactors in the United States "
            "and Japan.",
        ),
        (  # another country's president meeting Japan's prime minister: no U.S. leader
            "Ishiba and Xi agree on stable ties",
            "Prime Minister Shigeru Ishiba and President Xi Jinping met in Lima and discussed military "
            "activity near Japan.",
        ),
        (  # a shipbuilder whose name holds "Marine", beside the MSDF
            "Shipyard delivers new vessel",
            "Japan Marine United handed the ship to the Maritime Self-Defense Force on Friday.",
        ),
        (  # what South Korea pays for the U.S. troops it hosts, with Japan named beside it
            "韓国大統領選、米韓同盟巡り論戦 日本との関係も",
            "候補者は米韓同盟の在り方や在韓米軍の駐留経費をめぐって論戦を交わした。日本との関係でも意見が分かれた。",
        ),
        (  # a conglomerate that also builds weapons, investing in power plants
            "Japan and U.S. leaders sign investment deals",
            "Japanese companies including Toshiba and Mitsubishi Electric pledged investments in U.S. power "
            "plants as Japan confirmed its $550 billion package.",
        ),
        ("井上、王座防衛に成功 米国で", "ボクシングの世界王者が米国で4度目の防衛に成功した。"),
        ("日米貿易協定が発効", "日米の貿易協定が発効し、米国産牛肉の関税が下がった。"),
        ("自動車大手が事業再編", "東京に本社を置く自動車大手は、北米事業を再編すると発表した。"),
    ],
)
def test_hard_near_misses_match_nothing(shipped: Matcher, title: str, body: str) -> None:
    assert topics_of(shipped, title, body) == set()


@pytest.mark.parametrize(
    ("title", "body"),
    [
        (  # a minister meeting "his Japanese counterpart", unnamed
            "Hegseth meets Japanese counterpart in Tokyo",
            "U.S. Defense Secretary Pete Hegseth met his Japanese counterpart on Sunday and pledged to "
            "deepen cooperation.",
        ),
        (  # a trilateral sail, the allies named in a list with commas
            "Three navies sail together in South China Sea",
            "Japanese, American and Philippine naval vessels conducted a maritime cooperative activity.",
        ),
        (  # what Japan pays to host U.S. forces
            "Japan to pay more under new five-year deal",
            "Tokyo will pay 1.05 trillion yen over five years to host U.S. forces, the two governments said.",
        ),
        ("米艦、横浜の造船所で修理", "米海軍の駆逐艦が横浜市の造船所で修理を受けた。"),
        ("日米豪比の防衛相が会談", "日米豪比の4か国の防衛相が会談し、南シナ海での連携強化を確認した。"),
        (  # a base city named with the U.S. forces in it
            "Sailor arrested after crash in Yokosuka",
            "Police arrested a sailor assigned to the USS George Washington after a crash in Yokosuka.",
        ),
    ],
)
def test_alliance_stories_that_name_no_alliance(shipped: Matcher, title: str, body: str) -> None:
    assert ALLIANCE in topics_of(shipped, title, body)


@pytest.mark.parametrize(
    ("title", "body"),
    [
        (
            "防衛省、概算要求8.8兆円 過去最大",
            "防衛省は来年度予算の概算要求で過去最大の8兆8千億円を計上した。",
        ),
        (
            "Japan to convert second Izumo-class ship",
            "Japan's MSDF will convert the destroyer Kaga into a carrier.",
        ),
    ],
)
def test_build_up_stories_that_name_no_budget_word(shipped: Matcher, title: str, body: str) -> None:
    assert BUILDUP in topics_of(shipped, title, body)


def test_japans_joint_operations_command_as_usfjs_counterpart_is_not_its_own_build_up(
    shipped: Matcher,
) -> None:
    # TOPICS.md puts the JJOC in the build-up "when it is treated as Japan's own command".
    counterpart = (
        "U.S. Forces Japan set up a team to work with Japan's Joint Operations Command as the allies "
        "update their command and control."
    )
    assert topics_of(shipped, "Allies form team on command ties", counterpart) == {USFJ, ALLIANCE}
    own = "Japan set up its Joint Operations Command on Monday to unify command of the three services."
    assert BUILDUP in topics_of(shipped, "A new command for the SDF", own)
    # Months after its launch, a story on how the command runs the SDF says no "launch" at all.
    running = (
        "Japan's Joint Operations Command directed its first large drill of the three services, and "
        "its commander said the staff of 240 will grow next year."
    )
    assert BUILDUP in topics_of(shipped, "SDF command runs first big drill", running)
    # The counterpart said a sentence away from the U.S. side is still the counterpart.
    later = (
        "U.S. Forces Japan will be upgraded to a joint force headquarters, officials said on Tuesday "
        "after long talks. The new command in Tokyo will work with Japan's Joint Operations Command."
    )
    assert BUILDUP not in topics_of(shipped, "USFJ to become a joint force headquarters", later)
    title = "統合作戦司令部と在日米軍、連携強化で一致"
    body = "統合作戦司令官と在日米軍司令官が会談し、指揮統制の連携強化で一致した。"
    assert BUILDUP not in topics_of(shipped, title, body)


@pytest.mark.parametrize(
    ("title", "body"),
    [
        (
            "Marines bring anti-ship launchers to Ishigaki",
            "U.S. Marines deployed the NMESIS anti-ship missile system to Ishigaki for an exercise with "
            "the Ground Self-Defense Force.",
        ),
        (
            "米陸軍のタイフォン、岩国に展開",
            "米陸軍は中距離ミサイルシステム「タイフォン」を岩国基地に展開した。陸上自衛隊との共同訓練のため。",
        ),
    ],
)
def test_american_weapons_brought_to_a_drill_are_the_alliance_not_japans_build_up(
    shipped: Matcher, title: str, body: str
) -> None:
    assert topics_of(shipped, title, body) == {ALLIANCE}


def test_weapons_japan_develops_or_builds_with_the_us_are_both_topics(shipped: Matcher) -> None:
    # Building a weapon together is the alliance's (TOPICS.md lists it there); the build-up's too
    # where Japan's own policy is in it: its budget pays for its share (en-gpi-codevelopment).
    title = "Japan and U.S. to co-develop hypersonic interceptor"
    body = (
        "Japan and the United States agreed to co-develop an interceptor. The Defense Ministry has set "
        "aside 75.7 billion yen for Japan's share of the work."
    )
    assert {ALLIANCE, BUILDUP} <= topics_of(shipped, title, body)
    training = (
        "MSDF crews start Tomahawk training",
        "MSDF sailors began training with the U.S. Navy on Tomahawk.",
    )
    assert BUILDUP in topics_of(shipped, *training)


@pytest.mark.parametrize(
    ("title", "body"),
    [
        (
            "Kadena to get 36 F-15EX jets",
            "The Air Force will permanently base 36 F-15EX fighters at Kadena Air Base.",
        ),
        (
            "Nagasaki protests helicopters' low flights",
            "Nagasaki asked the U.S. military to stop low-altitude flights over the city; the Defense "
            "Ministry relayed the request to U.S. Forces Japan.",
        ),
    ],
)
def test_us_basing_and_flights_in_japan_are_the_alliance(shipped: Matcher, title: str, body: str) -> None:
    assert ALLIANCE in topics_of(shipped, title, body)


def test_the_white_house_pressing_japan_to_spend_more_is_the_alliance(shipped: Matcher) -> None:
    title = "Trump presses Japan on trade and defense"
    body = (
        "President Donald Trump said Japan must buy more American cars.\n"
        "The White House is also pushing Tokyo to raise defense spending beyond 2% of GDP and to pay more "
        "for the U.S. troops stationed in Japan. Prime Minister Sanae Takaichi said Japan decides its "
        "defense budget on its own.\n"
        "The two leaders are expected to sign a deal on critical minerals."
    )
    assert {ALLIANCE, BUILDUP} <= topics_of(shipped, title, body)


@pytest.mark.parametrize(
    ("title", "body"),
    [
        (  # Japan's first export of used warships
            "Japan to export used destroyers to the Philippines",
            "Japan plans to transfer six retired destroyer escorts to the Philippine Navy, its first export "
            "of used warships.",
        ),
        (  # the ship type names Japan's navy, though the title names only the buyer
            "あぶくま型護衛艦をフィリピンへ",
            "政府は退役するあぶくま型護衛艦6隻をフィリピン海軍に移転する方向で調整に入った。中古艦の輸出は初めて。",
        ),
        (  # civilian airports and ports readied for the SDF
            "特定利用空港・港湾に16カ所",
            "政府は自衛隊が平時から利用できる特定利用空港・港湾として16カ所を指定した。",
        ),
    ],
)
def test_japans_arms_exports_and_defence_infrastructure_are_the_build_up(
    shipped: Matcher, title: str, body: str
) -> None:
    assert BUILDUP in topics_of(shipped, title, body)


@pytest.mark.parametrize(
    ("title", "body"),
    [
        (
            "自衛官の給与引き上げへ",
            "政府は自衛官の人材確保に向け、給与の引き上げを柱とする基本方針をまとめた。",
        ),
        (  # discipline across the forces, ordered by the ministry, is personnel policy
            "Ministry punishes 90 over secrets",
            "The Defense Ministry disciplined 90 members of the Self-Defense Forces for mishandling "
            "classified information.",
        ),
    ],
)
def test_sdf_pay_recruiting_and_discipline_are_the_build_up(shipped: Matcher, title: str, body: str) -> None:
    assert BUILDUP in topics_of(shipped, title, body)


def test_the_sdfs_own_ospreys_are_not_the_alliance(shipped: Matcher) -> None:
    title, body = (
        "陸自オスプレイ、佐賀駐屯地に配備完了",
        "陸上自衛隊の輸送機オスプレイ17機の佐賀駐屯地への配備が完了した。",
    )
    assert ALLIANCE not in topics_of(shipped, title, body)
    assert ALLIANCE in topics_of(
        shipped, "米軍オスプレイ、普天間に戻る", "米海兵隊のオスプレイが普天間飛行場に戻った。"
    )


# --- Japanese: word edges and NEAR in words ------------------------------------------------------


def judge(query: str, title: str, body: str, aliases: dict[str, list[str]] | None = None) -> Verdict:
    config = parse_config({"aliases": aliases or {}, "topics": {"t": {"query": query}}})
    return Matcher.from_topics(config.topics, config.aliases).evaluate(article(title, body))[0]


def test_a_japanese_term_is_not_found_across_a_word_edge() -> None:
    # 日米 ("Japan-U.S.") is in the characters of 在日米軍 ("U.S. forces in Japan"), not in its words.
    assert not judge("日米", "在日米軍が発表", "").matched
    assert judge("日米", "日米同盟を強化", "").matched
    assert judge("米軍", "在日米軍が発表", "").matched


def test_a_japanese_noun_ends_where_the_analyser_glued_its_last_character_to_the_verb() -> None:
    # UniDic cuts 不時着し as 不時 / 着し: the noun 不時着 ("emergency landing") still ends before し,
    # as round 79's CH-53E story needs. Only a kana tail opens a word: 日米 stays out of 在日米軍.
    assert judge("不時着", "米軍ヘリが牧草地に不時着し炎上", "").matched
    assert judge("不時着", "米軍機が不時着した", "").matched
    assert not judge("日米", "在日米軍が発表", "").matched


def test_japanese_near_counts_words_across_a_clause() -> None:
    # About twenty words (forty characters, particles counted as English counts "of" and "the")
    # apart: a clause apart, as real sentences put them.
    body = "在日米軍は、横田基地に置かれた司令部の機能を大幅に高めるため、段階的な再編を進めている。"
    assert judge("在日米軍 NEAR/20 再編", "x", body).matched
    outcome = judge("在日米軍 NEAR/5 再編", "x", body)
    assert not outcome.matched
    assert "never within 5 words" in outcome.explanation.reasons_not_matched[0]


def test_threads_share_one_analyser_and_get_the_words_they_would_alone() -> None:
    from concurrent.futures import ThreadPoolExecutor

    texts = [
        f"在日米軍の統合軍司令部化は第{n}段階に入り、横田基地で要員が増えた。" * (n % 5 + 1)
        for n in range(64)
    ]
    alone = [words(text) for text in texts]
    with ThreadPoolExecutor(max_workers=16) as pool:
        together = list(pool.map(words, texts))
    assert together == alone


def test_only_the_japanese_stretches_of_an_english_story_are_analysed_with_the_same_edges() -> None:
    japanese = "在日米軍の司令部機能強化を日米が確認した"
    english = "The allies met in Tokyo on Monday and agreed to strengthen the command."
    mixed = f"{english} {japanese} {english}"
    alone, within = words(japanese), words(mixed)
    offset = len(english) + 1
    assert {start + offset for start in alone.starts} == within.starts
    assert {end + offset for end in alone.ends} == within.ends
    assert tuple(start + offset for start in alone.cjk_starts) == within.cjk_starts
    # A Latin name inside a Japanese sentence stays in it: the analyser reads the sentence whole.
    sentence = "米海兵隊は NMESIS を石垣島に展開した"
    assert words(sentence).starts >= {sentence.index("を"), sentence.index("石垣島")}


def test_the_analyser_cuts_japanese_into_words() -> None:
    text = "在日米軍の統合軍司令部化"
    found = words(text)
    assert {0, 2, 4}.issubset(found.starts)  # 在日 | 米軍 | の
    assert found.cjk_words_between(0, len(text)) >= 6


# --- the query language never breaks on what an operator types or a feed sends ------------------


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_any_query_compiles_or_reports_its_column(query: str) -> None:
    try:
        parse_query(query, {})
    except QueryError as error:
        assert 1 <= error.column <= len(query) + 1
        assert str(error).startswith(f"column {error.column}: ")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400), st.text(max_size=80))
def test_matching_never_raises_on_arbitrary_unicode(shipped: Matcher, body: str, title: str) -> None:
    for verdict in shipped.evaluate(article(title, body)):
        assert verdict.score >= 0
        for hit in verdict.hits:
            text = title if hit.field == "title" else body
            assert 0 <= hit.start <= hit.end <= len(text)


# --- #topic: one topic's query inside another's ---------------------------------------------------


def test_a_topic_can_include_another_topics_query() -> None:
    config = parse_config(
        {
            "topics": {
                "narrow": {"query": "USFJ NEAR/5 headquarters"},
                "broad": {"query": "#narrow OR alliance"},
            }
        }
    )
    matcher = Matcher.from_topics(config.topics, config.aliases)
    found = {v.topic for v in matcher.match(article("USFJ headquarters plan", "USFJ headquarters plan."))}
    assert found == {"narrow", "broad"}
    assert {v.topic for v in matcher.match(article("The alliance", "An alliance story."))} == {"broad"}


@pytest.mark.parametrize(
    ("topics", "key", "message"),
    [
        ({"a": {"query": "#nope OR x"}}, "topics.a.query", "column 1: unknown topic '#nope' (known: #a)"),
        (
            {"a": {"query": "#b OR x"}, "b": {"query": "#a OR y"}},
            "topics.a.query",
            "'#a' refers back to the topic being defined",
        ),
        ({"a": {"query": "x OR #"}}, "topics.a.query", "column 6: '#' is not a topic name"),
    ],
)
def test_a_bad_topic_reference_is_a_config_error(topics: dict, key: str, message: str) -> None:
    from pipeline.config import ConfigError

    with pytest.raises(ConfigError) as raised:
        parse_config({"topics": topics})
    assert key in str(raised.value) and message in str(raised.value)


@pytest.mark.parametrize(
    ("title", "body"),
    [
        (  # USFJ named, its change told a paragraph later in words the alias sets did not hold
            "New commander takes over in Tokyo",
            "Lt. Gen. Ann Doe took command of U.S. Forces Japan on Friday in a ceremony at the base, with "
            "Japanese and American officers and the ambassador in attendance, and thanked her predecessor. "
            "She said her task was converting the headquarters so that it can plan and run operations "
            "alongside the Self-Defense Forces.",
        ),
        (  # USFJ by where it sits, not by its name
            "Allied planners rehearse a crisis",
            "Planners from the U.S. military's Yokota-based headquarters and Japan's Joint Operations "
            "Command "
            "practised dividing tasks, after Washington gave its Japan headquarters an operational role.",
        ),
        (
            "米、在日司令部に作戦機能",
            "米国は東京に置く司令部に作戦機能を持たせ、自衛隊の司令部と日常的に調整する方針だ。",
        ),
        (  # "its headquarters in Japan": USFJ described, not named
            "Pentagon weighs pause to upgrade",
            "The Pentagon is weighing a pause in plans to upgrade its headquarters in Japan, officials said.",
        ),
        (  # its commander by name
            "Commander: headquarters will plan alongside Japan",
            "Lt. Gen. Stephen Jost said the headquarters he leads will take operational control of some "
            "forces and plan operations with Japan's new command.",
        ),
        (  # the commander's rank, which the definition names, told in Japanese
            "在日米軍トップの階級見直し",
            "米政府は在日米軍司令官の階級を中将から大将に引き上げる方向で検討に入った。",
        ),
    ],
)
def test_usfj_reorganisation_told_without_its_usual_words(shipped: Matcher, title: str, body: str) -> None:
    assert {USFJ, ALLIANCE} <= topics_of(shipped, title, body)


def test_a_title_naming_the_new_command_over_a_body_naming_usfj_is_the_reorganisation(
    shipped: Matcher,
) -> None:
    title = "U.S. to turn its Japan command into a joint force headquarters"
    body = (
        "The Pentagon will reconstitute U.S. Forces Japan in phases, the defense secretary said after "
        "talks in Tokyo, with a working group to settle the details."
    )
    assert {USFJ, ALLIANCE} <= topics_of(shipped, title, body)
    elsewhere = body.replace("Japan", "Germany")
    assert USFJ not in topics_of(shipped, "A joint force headquarters for Europe", elsewhere)


@pytest.mark.parametrize(
    ("title", "body"),
    [
        (
            "統合作戦司令部が発足、在日米軍との調整も",
            "防衛省は陸海空自衛隊を一元的に指揮する統合作戦司令部を新設した。在日米軍との調整窓口も担う。",
        ),
        (
            "先島の住民、九州へ避難",
            "政府は先島諸島の住民約12万人を九州各県へ避難させる計画をまとめた。",
        ),
        (
            "Japan to give coastal radars to Philippine navy",
            "Japan will provide coastal surveillance radars to the Philippine navy under its Official "
            "Security Assistance program.",
        ),
    ],
)
def test_build_up_stories_found_by_the_fourth_probe_round(shipped: Matcher, title: str, body: str) -> None:
    assert BUILDUP in topics_of(shipped, title, body)


def test_a_crime_at_a_base_festival_is_still_the_alliance(shipped: Matcher) -> None:
    title = "Marine arrested after assault at Kadena festival"
    body = (
        "Okinawa police arrested a U.S. Marine on suspicion of assault during the festival at Kadena "
        "Air Base."
    )
    assert ALLIANCE in topics_of(shipped, title, body)


@pytest.mark.parametrize(
    ("title", "body"),
    [
        (  # a U.S. unit in Japan named by its number, the U.S. never said
            "New fighters land at Misawa",
            "The first F-35A fighters of the 35th Fighter Wing arrived at Misawa Air Base, replacing its "
            "F-16s.",
        ),
        (
            "Officials discuss the nuclear umbrella",
            "Japanese and American officials met for talks on extended deterrence, the Foreign Ministry "
            "said.",
        ),
        (
            "日米、無人機の共同研究へ",
            "防衛省は、戦闘機と連携して飛ぶ無人機について米国と共同研究を始めると発表した。",
        ),
        (
            "Army activates boat unit at Yokohama dock",
            "The U.S. Army activated a watercraft company at Yokohama North Dock to ferry supplies.",
        ),
        (
            "U.S., Japan sign supply pledge for defense goods",
            "The United States and Japan signed a Security of Supply Arrangement for defense goods.",
        ),
        (
            "Japan to send shell parts to U.S.",
            "Japan will supply parts for artillery shells to the United States under its eased export rules.",
        ),
    ],
)
def test_alliance_stories_told_by_unit_deterrence_or_arms_transfer(
    shipped: Matcher, title: str, body: str
) -> None:
    assert ALLIANCE in topics_of(shipped, title, body)


@pytest.mark.parametrize(
    ("title", "body"),
    [
        (
            "ASDF fighters arrive at Komatsu",
            "The Air Self-Defense Force deployed its first F-35A fighters to Komatsu Air Base on Monday.",
        ),
        (
            "MSDF stands up drone squadron",
            "The Maritime Self-Defense Force stood up its first squadron of unmanned aircraft in Hachinohe.",
        ),
        (
            "次世代潜水艦、保有を検討",
            "防衛省は長く潜航できる次世代の潜水艦の保有に向けて検討を始めた。",
        ),
    ],
)
def test_the_sdfs_new_units_aircraft_and_submarines_are_the_build_up(
    shipped: Matcher, title: str, body: str
) -> None:
    assert BUILDUP in topics_of(shipped, title, body)


@pytest.mark.parametrize(
    ("title", "body", "unwanted"),
    [
        (  # a base's open day is neither a basing change nor an incident
            "横田基地で友好祭、にぎわう",
            "米軍横田基地で日米友好祭が開かれ、多くの家族連れが訪れた。",
            ALLIANCE,
        ),
        (  # the U.S. strategy and the U.S. defense policy bill are not Japan's documents
            "Japan says command plan unchanged",
            "Tokyo said the plan for U.S. Forces Japan would go ahead after the new U.S. National Defense "
            "Strategy was published.",
            BUILDUP,
        ),
        (
            "House bill asks for Japan command plan",
            "The House version of the annual defense policy bill asks for a plan for the headquarters in "
            "Japan.",
            BUILDUP,
        ),
        (  # another navy's carrier near Japanese jets is an incident, not Japan's own build-up
            "Japan protests radar lock by Chinese carrier jets",
            "Jets from the Chinese aircraft carrier Liaoning locked radar on Air Self-Defense Force F-15s.",
            BUILDUP,
        ),
        (  # cruise missiles as the threat a drill rehearses, not Japan's own strike weapons
            "日米が防空訓練",
            "自衛隊と米軍は巡航ミサイルの同時攻撃を想定した防空訓練を実施した。",
            BUILDUP,
        ),
        (  # research partnerships outside defence
            "U.S., Japan sign fusion energy partnership",
            "The United States and Japan agreed on joint research into fusion energy, officials in Tokyo "
            "said.",
            ALLIANCE,
        ),
        (
            "Kadena hosts Special Olympics for 20th year",
            "Athletes and families filled the track at Kadena Air Base, where U.S. Marines and airmen "
            "volunteered.",
            ALLIANCE,
        ),
        (
            "U.S.-Japan Joint Committee on Science and Technology meets",
            "Officials of the U.S.-Japan Joint Committee discussed quantum computing and AI research.",
            ALLIANCE,
        ),
        (
            "U.S. Navy signs repair deal with Mitsubishi Heavy yard",
            "The U.S. Navy signed a master agreement for Mitsubishi Heavy Industries to repair its "
            "destroyers.",
            BUILDUP,
        ),
        (  # economic talks named like the security ones are trade
            "Tokyo and Washington hold economic 2+2",
            "Japan and the United States held their economic 2+2 on chips and energy and agreed to meet "
            "again next year.",
            ALLIANCE,
        ),
        (
            "Marines beat local side in rugby friendly",
            "A U.S. Marine Corps team from Camp Hansen beat an Okinawa club 30-12.",
            ALLIANCE,
        ),
        (
            "基地の街にインバウンド客",
            "米海軍横須賀基地の近くの商店街に外国人観光客が増え、米兵向けの店もにぎわう。",
            ALLIANCE,
        ),
        (
            "岩国の空港に新路線が就航",
            "米海兵隊岩国基地に併設された空港で、那覇への新路線が就航した。",
            ALLIANCE,
        ),
        (
            "返還跡地に大学キャンパス",
            "米軍普天間飛行場の近くの返還跡地に、大学の新キャンパスが開校した。",
            ALLIANCE,
        ),
        (
            "Pentagon opens review of AUKUS pact",
            "The Pentagon began a review of the AUKUS security pact to build nuclear-powered submarines; "
            "Japan was mentioned as a possible partner.",
            ALLIANCE,
        ),
        (  # repairing U.S. ships is the alliance's industrial cooperation, not Japan's own build-up
            "米艦の修理、長崎の造船所で",
            "日米両政府の防衛産業協力の一環で、米海軍艦艇の修理を長崎の造船所が請け負う。",
            BUILDUP,
        ),
        (  # Japan's command named in a story about USFJ's plan is its counterpart
            "Pentagon may shelve U.S. Forces Japan upgrade",
            "The plan would have paired the Tokyo command with Japan's new Joint Operations Command, "
            "officials said, and its future now rests on a budget review.",
            BUILDUP,
        ),
        (  # Japan's command beside "the U.S. side" is its counterpart
            "統合作戦司令官「米側と毎日調整」",
            "統合作戦司令部の司令官は、横田の米側司令部と毎日のように調整していると述べた。",
            BUILDUP,
        ),
        (  # sport at a base town, told with the base's name
            "U.S. Navy sailors paddle in Sasebo's dragon-boat race",
            "Sailors from Fleet Activities Sasebo joined the city's dragon-boat race on Sunday.",
            ALLIANCE,
        ),
        (  # a constitutional amendment about the Diet in an emergency, not about the forces
            "衆院憲法審、緊急時の議員任期延長を討論",
            "衆院憲法審査会は緊急時に国会議員の任期を延長する改憲について討論した。日本維新の会は条文案の作成を主張した。",
            BUILDUP,
        ),
        (  # a missile warning's evacuation call is not an evacuation plan for the islands
            "北朝鮮が衛星打ち上げ 沖縄にJアラート",
            "北朝鮮が衛星を打ち上げ、政府は沖縄県にJアラートを発令し、宮古島などの住民に避難を呼びかけた。",
            BUILDUP,
        ),
        (  # a trade deal whose title says nothing of defence
            "Trump announces trade deal with Japan, cutting tariffs to 15%",
            "President Trump said the U.S. had reached a trade deal with Japan. Prime Minister Shigeru "
            "Ishiba said Japan would also buy additional defense equipment.",
            ALLIANCE,
        ),
        (  # 防衛費 is also another country's
            "ドイツ、防衛費を債務ブレーキの対象外に",
            "ドイツ連邦議会は防衛費を債務ブレーキの対象外とする基本法改正案を可決した。",
            BUILDUP,
        ),
        (  # a contractor's results
            "Mitsubishi Heavy posts record orders as defense, gas turbines boom",
            "Mitsubishi Heavy Industries reported record orders, driven by gas turbines and its defense "
            "business with the Self-Defense Forces.",
            BUILDUP,
        ),
        (  # one soldier punished by his brigade: not the defence policy the definition counts
            "陸自隊員、飲酒運転で懲戒免職",
            "陸上自衛隊第15旅団は、酒気帯び運転をしたとして那覇駐屯地の3等陸曹を懲戒免職処分にした。",
            BUILDUP,
        ),
    ],
)
def test_near_misses_found_by_probes_written_apart_from_the_rules(
    shipped: Matcher, title: str, body: str, unwanted: str
) -> None:
    assert unwanted not in topics_of(shipped, title, body)


def test_japan_and_the_us_in_a_list_of_countries(shipped: Matcher) -> None:
    trilateral = (
        "Three allies link missile warning radars",
        "The United States, Japan and South Korea began trilateral exercises and real-time sharing of "
        "missile warning data.",
    )
    assert ALLIANCE in topics_of(shipped, *trilateral)
    quad = (
        "Quad ministers launch critical minerals initiative",
        "Foreign ministers of the United States, Japan, Australia and India met in Washington and "
        "discussed maritime security and defense of sea lanes.",
    )
    assert ALLIANCE not in topics_of(shipped, *quad)


# --- probe rounds 5-7 (written apart from the rules, 2026-12-04): classes they found -------------


@pytest.mark.parametrize(
    ("title", "body", "expected"),
    [
        (  # USFJ by its seat, with the particles Japanese puts between the words
            "福生市、司令部の機能強化で説明求める",
            "福生市は、横田基地に置かれた米側司令部の機能強化について、国に文書で説明を求めた。",
            {USFJ, ALLIANCE},
        ),
        (
            "横田の司令部に新部署",
            "横田基地にある米側の司令部が、作戦立案を担う部署を新たに設け、要員を増やしている。",
            {USFJ, ALLIANCE},
        ),
        (  # the cooperation team the definition names, told without USFJ's name
            "Allies form a team to align operations",
            "Japan and the United States set up a bilateral team of officers to coordinate planning between "
            "the SDF's new unified command and the American headquarters at Yokota.",
            {USFJ, ALLIANCE},
        ),
        (  # a title naming Japan's command beside the U.S. side: their command and control
            "Japan opens Joint Operations Command, to coordinate with U.S.",
            "The new command in Ichigaya will direct the three services of the Self-Defense Forces.\n"
            "Officials said U.S. Forces Japan would keep liaison officers there.",
            {USFJ, ALLIANCE},
        ),
        (
            "米兵の暴行事件で判決",
            "那覇地裁は、沖縄で少女に暴行したとして起訴された米空軍兵に懲役刑を言い渡した。",
            {ALLIANCE},
        ),
        (  # a unit made bigger is the SDF reorganising
            "陸自の旅団、師団に格上げ",
            "防衛省は、那覇市に司令部を置く陸上自衛隊の旅団を師団に格上げし、人員を増やす。",
            {BUILDUP},
        ),
        (
            "GSDF brigade in Okinawa to become a division",
            "The Defense Ministry plans to upgrade a Ground Self-Defense Force brigade to a division.",
            {BUILDUP},
        ),
        (
            "Camp in Kyushu gets glide weapon unit",
            "The Ground Self-Defense Force set up a battalion to operate hypervelocity gliding projectiles.",
            {BUILDUP},
        ),
        (  # Japan's warship export, told under the buyer's name
            "Australia picks Mogami-class frigates",
            "Australia chose Japan's upgraded Mogami-class frigate for its navy, a major defence export.",
            {BUILDUP},
        ),
        (  # its launch is Japan's own reorganisation, whatever its role beside U.S. forces
            "Japan launches Joint Operations Command to work with U.S. forces",
            "Japan launched the Joint Operations Command on Monday to direct the three services. About "
            "240 people work there under its first commander, an air force general.\n"
            "Until now the chief of the Joint Staff both advised the minister and ran operations. The "
            "new command will also be the counterpart of U.S. Forces Japan.",
            {BUILDUP},
        ),
        (  # the U.S. command named by what it becomes and where
            "Lawmakers ask who commands in a crisis",
            "Opposition lawmakers asked how the SDF's command would work with the U.S. joint force "
            "headquarters being set up in Tokyo.",
            {USFJ},
        ),
        (  # USFJ in the title, its change in the body
            "Second phase of USFJ transition due next year",
            "The phase will move some operational control from Hawaii to Tokyo, defense officials said.",
            {USFJ},
        ),
        (
            "Court sentences U.S. airman for assaulting teenager",
            "The Kadena-based airman was convicted of abducting and assaulting a girl last year.",
            {ALLIANCE},
        ),
        (  # U.S. ships repaired by a Japanese contractor
            "米艦の修理、三菱重工で",
            "三菱重工業の工場で、米海軍の艦艇の定期修理が始まった。",
            {ALLIANCE},
        ),
        (  # an amount in yen is Japan's money
            "Extra budget lifts defence spending",
            "The supplementary budget adds 1.1 trillion yen for defence, the finance ministry said.",
            {BUILDUP},
        ),
        (  # the island and the unit in the title, the SDF in the body
            "Missile unit to be stationed on Yonaguni",
            "The Ground Self-Defense Force will place a surface-to-air battery there, the ministry said.",
            {BUILDUP},
        ),
        (  # the ministry stationing a unit on an island is Japan's, whatever the unit
            "Island near Taiwan to host new units",
            "The Defense Ministry plans to station an electronic warfare unit on Yonaguni.",
            {BUILDUP},
        ),
        (
            "政府、パトリオットの米国輸出を決定",
            "政府は国内で生産する地対空誘導弾パトリオットを米国に輸出する。",
            {BUILDUP},
        ),
        # Rounds nine and ten: Japan's programmes, agencies, units and kit by name
        (
            "Japan picks builders for Aegis system equipped vessels",
            "Japan Marine United and Mitsubishi Heavy Industries will each build one of the two Aegis system "
            "equipped vessels.",
            {BUILDUP},
        ),
        (
            "Japan opens a research institute",
            "Japan's Acquisition, Technology and Logistics Agency opened an institute for defense "
            "innovation.",
            {BUILDUP},
        ),
        ("空自に宇宙作戦群", "航空自衛隊は府中基地に宇宙作戦群を新編した。", {BUILDUP}),
        ("海自、無人機導入へ", "防衛省は海上自衛隊の警戒監視に無人機MQ9Bを導入する方針を固めた。", {BUILDUP}),
        (  # an SDF training ground, planned or dropped
            "陸自訓練場の計画を断念",
            "防衛相は沖縄県うるま市に陸上自衛隊の訓練場を整備する計画を断念すると表明した。",
            {BUILDUP},
        ),
        (
            "Tokyo lifts defense contractors' profit",
            "Japan's Defense Ministry will let companies earn up to 15 percent on defense contracts.",
            {BUILDUP},
        ),
        (  # Japan's white paper, its title naming only China
            "White paper warns of China challenge",
            "Japan's defense white paper, approved by the cabinet, described its counterstrike plans.",
            {BUILDUP},
        ),
        # the alliance: a U.S. service member's sentence, shared missile warnings, a named drill abroad
        (
            "米海兵隊員に懲役7年",
            "沖縄本島で女性に性的暴行を加えたとして不同意性交致傷の罪に問われた米海兵隊員の被告に、"
            "那覇地裁は懲役7年の判決を言い渡した。",
            {ALLIANCE},
        ),
        (
            "Japan transfers jailed U.S. Navy officer",
            "The officer, serving a sentence in Japan for a fatal car crash, was handed to American custody.",
            {ALLIANCE},
        ),
        (
            "日米韓、ミサイル警戒データの共有開始",
            "日米韓3カ国は北朝鮮のミサイルの警戒データを即時に共有する仕組みの運用を始めた。",
            {ALLIANCE},
        ),
        (
            "Quad navies hold Malabar drills off India",
            "Warships from Japan, the United States, India and Australia began the Malabar exercise.",
            {ALLIANCE},
        ),
        # Rounds eleven and twelve: the ministry's money and kit told without "Japan"
        (
            "Defense Ministry seeks record ¥8.8 trillion",
            "The request funds drones and more ships.",
            {BUILDUP},
        ),
        (
            "MHI, JMU win contracts for two ASEVs",
            "The ministry awarded the builders contracts for the 12,000-ton ASEVs.",
            {BUILDUP},
        ),
        (  # an MSDF destroyer by its name
            "JS Chokai arrives in San Diego for Tomahawk integration",
            "The destroyer Chokai will be fitted to launch Tomahawk cruise missiles.",
            {BUILDUP},
        ),
        (
            "Ministry to build 130 ammunition depots",
            "The Defense Ministry plans to build about 130 new ammunition storage facilities by fiscal 2032.",
            {BUILDUP},
        ),
        (
            "SDF launches joint transport unit",
            "The Self-Defense Forces launched a Maritime Transport Group to carry troops to remote islands.",
            {BUILDUP},
        ),
        (  # Japan's own programmes in a title beside the buyer's or partner's name
            "退役予定の「あぶくま型」、フィリピンへ輸出検討",
            "政府は海上自衛隊のあぶくま型護衛艦をフィリピンに輸出する検討に入った。",
            {BUILDUP},
        ),
        (
            "同志国軍に装備を無償供与 「OSA」創設、フィリピンなど候補",
            "政府は同志国の軍に防衛装備を無償で供与する政府安全保障能力強化支援（OSA）を創設した。",
            {BUILDUP},
        ),
        (
            "LDP tax panel again delays start date for defense tax hikes",
            "The ruling coalition's tax outline again left open when income tax will be raised.",
            {BUILDUP},
        ),
        (
            "陸自オスプレイ、佐賀駐屯地へ移駐開始",
            "陸上自衛隊のオスプレイの佐賀駐屯地への移駐が始まった。",
            {BUILDUP},
        ),
        (  # Japan's Tomahawks fitted and trained on by the U.S. side: the transaction itself
            "Destroyer Chokai arrives in U.S. for Tomahawk refit",
            "The Aegis destroyer JS Chokai arrived in San Diego to be fitted with launch systems for "
            "Tomahawk cruise missiles by U.S. contractors.",
            {ALLIANCE, BUILDUP},
        ),
        # Rounds fifteen and sixteen: purchases, plans, pacts and rules
        (
            "State Department clears sale of SM-6 missiles to Japan",
            "The sale of up to 150 missiles to Japan was approved on Tuesday.",
            {BUILDUP},
        ),
        (
            "MSDF to buy SeaGuardian drones under U.S. government sale",
            "The Maritime Self-Defense Force will buy 23 MQ-9B SeaGuardian drones through a U.S. "
            "government sale.",
            {ALLIANCE, BUILDUP},
        ),
        (
            "Japan plans 'SHIELD' for coastal defense",
            "Japan's Defense Ministry plans a layered drone network called SHIELD.",
            {BUILDUP},
        ),
        (
            "Japan designates 16 ports and airports for SDF use",
            "The government named the facilities that can be used in peacetime.",
            {BUILDUP},
        ),
        (
            "Japan-Philippines troop pact takes effect",
            "The Reciprocal Access Agreement between Japan and the Philippines entered into force.",
            {BUILDUP},
        ),
        (  # an export in the title keeps the partner's name Japan's story
            "フィリピンに警戒管制レーダー移転 完成品で初の輸出",
            "政府は三菱電機製の警戒管制レーダーをフィリピンに移転した。",
            {BUILDUP},
        ),
        (
            "Japan loosens rules to shoot down balloons",
            "The Defense Ministry said the SDF may use weapons against foreign balloons violating the "
            "airspace.",
            {BUILDUP},
        ),
        (
            "Defense Ministry to buy former steel site for defence hub",
            "The Defense Ministry will acquire the former steel works in Kure to build a defence hub.",
            {BUILDUP},
        ),
        # Rounds seventeen and eighteen (measured held out; these three fixed after)
        (
            "ASDF upgrades space unit",
            "The Air Self-Defense Force turned its space unit into the Space Operations Group.",
            {BUILDUP},
        ),
        (
            "Japan adopts plan for the Coast Guard in an armed attack",
            "The government approved procedures placing the Japan Coast Guard under the defence minister's "
            "control in an armed attack.",
            {BUILDUP},
        ),
        (  # the Philippine Sea is not the Philippines
            "Izumo, Reagan strike group drill in Philippine Sea",
            "The helicopter destroyer JS Izumo sailed with the USS Ronald Reagan carrier strike group, the "
            "Maritime Self-Defense Force said.",
            {ALLIANCE},
        ),
        # the alliance: bombers with Japan's fighters, a radar site, a sentence, Henoko, a return
        (
            "U.S. B-52s, Japanese fighters fly together",
            "U.S. B-52 bombers and Air Self-Defense Force F-35 fighters conducted a joint flight over the "
            "Sea of Japan.",
            {ALLIANCE},
        ),
        (
            "京丹後の米軍レーダー基地 騒音対策を要望",
            "京丹後市の米軍経ケ岬通信所の騒音について、市長が対策を求めた。",
            {ALLIANCE},
        ),
        (
            "Court sentences Okinawa assailant",
            "The Naha District Court sentenced Lance Cpl. Jamel Clayton to seven years in prison for "
            "assaulting a woman in Okinawa.",
            {ALLIANCE},
        ),
        (
            "Work starts on Oura Bay side of Henoko",
            "The Okinawa Defense Bureau began work to reclaim the soft-seabed side of the Futenma "
            "replacement site.",
            {ALLIANCE},
        ),
        (  # a base's land returned (跡地 in the title alone is base life)
            "キャンプ・キンザー北側の一部、返還 浦添市は跡地利用へ",
            "米軍牧港補給地区（キャンプ・キンザー）の北側の一部が返還された。",
            {ALLIANCE},
        ),
        (  # 中国 in 中国山地 is a region of Japan, not China
            "米軍機の低空飛行、中国山地で目撃相次ぐ",
            "中国地方の山間部で岩国基地所属とみられる米軍機の低空飛行が相次ぎ、県は国に抗議した。",
            {ALLIANCE},
        ),
    ],
)
def test_stories_found_by_probes_written_apart_from_the_rules(
    shipped: Matcher, title: str, body: str, expected: set[str]
) -> None:
    assert expected <= topics_of(shipped, title, body)


# --- probe rounds nineteen to twenty-two ------------------------------------------------------------

ROUNDS_19_TO_22_FINDS: list[tuple[str, str, set[str]]] = [
    (  # the courts on a base: litigation over the Henoko landfill
        "Top court rejects Okinawa's Henoko appeal",
        "The Supreme Court dismissed the prefecture's suit over the state's approval of design "
        "changes at Henoko.",
        {ALLIANCE},
    ),
    (  # Okinawa's base towns beside the Marines
        "Object found on Ginowan school roof",
        "A part found on a school roof in Ginowan belonged to a CH-53E, the Marines said.",
        {ALLIANCE},
    ),
    (  # a named exercise as Japanese reporting spells it
        "4カ国の共同訓練「マラバール」始まる",
        "日本、米国、インド、豪州の4カ国による共同訓練「マラバール」がベンガル湾で始まった。",
        {ALLIANCE},
    ),
    (  # U.S. personnel in the plural
        "Thousands rally in Okinawa",
        "Tens of thousands gathered in Okinawa to protest the assault of a girl by three American "
        "servicemen.",
        {ALLIANCE},
    ),
    (  # the U.S. Air Force's and Marines' Ospreys by type
        "Report blames gearbox for Osprey crash",
        "The CV-22 Osprey went down off Yakushima, killing eight airmen; Japan asked for safety measures.",
        {ALLIANCE},
    ),
    (  # both governments in the title, their joint production in the body
        "Washington and Tokyo to build missiles together",
        "The two governments agreed to explore joint production of air-to-air missiles in Japan.",
        {ALLIANCE},
    ),
    (  # the U.S. commitment to defend Japan
        "Three leaders meet on sea tensions",
        "The president said Washington's defense commitments to Japan and the Philippines were firm.",
        {ALLIANCE},
    ),
    (  # leaders agreeing on drills a sentence after they are named
        "Three leaders meet at Camp David",
        "President Biden hosted Prime Minister Kishida and South Korea's president at Camp David on "
        "Friday, the first summit the three leaders have held on their own. They agreed to hold military "
        "exercises every year.",
        {ALLIANCE},
    ),
    (  # USFJ described as Washington's headquarters at Yokota
        "Hegseth: first phase begins",
        "Washington will begin converting its military headquarters at Yokota into a warfighting "
        "headquarters, the defense secretary said.",
        {USFJ, ALLIANCE},
    ),
    (  # security legislation while it is still a bill
        "Diet passes security bills",
        "Japan's upper house enacted security bills that let the forces defend allies under attack.",
        {BUILDUP},
    ),
    (  # a new SDF unit launched
        "GSDF launches island-defence unit",
        "The Ground Self-Defense Force launched a new brigade in Sasebo to retake remote islands.",
        {BUILDUP},
    ),
]


ROUNDS_19_TO_22_NEAR_MISSES: list[tuple[str, str, str]] = [
    (  # a disaster story with one clause of U.S. help (TOPICS.md's labelling rule)
        "石川で震度7の地震",
        "石川県で震度7の地震があり、自衛隊が救助にあたった。在日米軍もヘリコプターで物資輸送を支援した。",
        ALLIANCE,
    ),
    (  # co-production and ship repair for U.S. forces: the alliance's, not Japan's own build-up
        "U.S., Japan hold first defense industry forum",
        "Pentagon and Japanese Defense Ministry officials discussed co-production of missiles and repair "
        "of U.S. Navy ships in Japanese yards.",
        BUILDUP,
    ),
    (  # a contractor's civil airliner
        "Mitsubishi Heavy scraps its passenger jet",
        "Mitsubishi Heavy Industries abandoned the SpaceJet regional jet after years of delays.",
        BUILDUP,
    ),
    (  # a U.S. launcher that can fire Tomahawks is not Japan's counterstrike
        "米陸軍のタイフォン、岩国に展開",
        "米陸軍は中距離ミサイル発射装置を岩国基地に展開した。陸上自衛隊との共同訓練の一環で、日本国内で"
        "トマホークを発射できる装置の展開は初めて。",
        BUILDUP,
    ),
    (  # a U.S. radar at an SDF site
        "U.S. radar deployed in Aomori",
        "The U.S. deployed an X-band radar at an Air Self-Defense Force site in Aomori.",
        BUILDUP,
    ),
    (  # China's build-up beside Japan's defence
        "Allies hold talks on extended deterrence",
        "Japan and the United States discussed extended deterrence amid China's nuclear build-up.",
        BUILDUP,
    ),
]

# --- probe rounds twenty-three to twenty-six ---------------------------------------------------------

ROUNDS_23_TO_26_FINDS: list[tuple[str, str, set[str]]] = [
    (  # the security law's 存立危機事態 (the condition for collective self-defence)
        "首相「存立危機事態になりうる」",
        "高市首相は衆院予算委員会で、台湾有事が存立危機事態になりうると答弁し、中国が反発した。",
        {BUILDUP},
    ),
    (  # an SDF warship through the Taiwan Strait
        "Japanese destroyer makes first passage",
        "A Maritime Self-Defense Force destroyer sailed through the Taiwan Strait for the first time.",
        {BUILDUP},
    ),
    (  # new camps on the southwestern islands
        "GSDF camps open on two islands",
        "The Ground Self-Defense Force opened new camps on Miyakojima and Amami Oshima.",
        {BUILDUP},
    ),
    (  # a new squadron
        "ASDF launches reconnaissance unit",
        "The Air Self-Defense Force launched a new reconnaissance squadron at Misawa.",
        {BUILDUP},
    ),
    (  # the GSDF's Ospreys moving to their new camp
        "GSDF begins move to Saga",
        "The Ground Self-Defense Force began moving its Ospreys from Kisarazu to the new camp in Saga.",
        {BUILDUP},
    ),
    (  # a title naming North Korea over an SDF deployment to the Sakishima islands
        "北朝鮮の衛星に備え 先島にPAC3展開へ",
        "防衛省は北朝鮮の衛星打ち上げに備え、陸上自衛隊のPAC3部隊を宮古島と石垣島に展開する。",
        {BUILDUP},
    ),
    (  # a U.S. government sale in Japanese
        "米、日本へのトマホーク売却を承認",
        "米国務省はトマホーク400発を日本に売却することを承認し、議会に通知した。",
        {ALLIANCE},
    ),
    (  # a prime minister before the U.S. Congress
        "Kishida addresses lawmakers in Washington",
        "Prime Minister Kishida told the U.S. Congress that Japan would raise defense spending and stand "
        "with America.",
        {ALLIANCE},
    ),
    (  # both leaders in the title of a trilateral summit
        "Biden, Kishida, Marcos meet at White House",
        "The three leaders announced joint naval training in the Pacific.",
        {ALLIANCE},
    ),
    (
        "日米比が初の首脳会談",
        "3カ国は南シナ海での中国の行動に懸念を示し、安全保障協力の強化で一致した。",
        {ALLIANCE},
    ),
]


ROUNDS_23_TO_26_NEAR_MISSES: list[tuple[str, str, str]] = [
    (  # coast guards are not the forces the definition's exercises are about
        "Japan, U.S., Philippine coast guards train together",
        "The coast guards of Japan, the United States and the Philippines held a joint exercise near the "
        "South China Sea.",
        ALLIANCE,
    ),
    (  # an assembly election's results, with the bases one issue among many
        "沖縄県議選、知事支持派が過半数割れ",
        "県議選では辺野古移設も争点の一つとなり、米軍普天間飛行場の移設を巡って論戦があった。",
        ALLIANCE,
    ),
    (  # the U.S. and the Philippines alone
        "米比、米軍の拠点を4カ所追加",
        "米国とフィリピンは防衛協力強化協定に基づき、米軍が使える拠点を4カ所増やすと発表した。",
        ALLIANCE,
    ),
]

# --- probe rounds twenty-seven to thirty --------------------------------------------------------------

ROUNDS_27_TO_30_FINDS: list[tuple[str, str, set[str]]] = [
    (  # the Coast Guard under the defence minister, as reporting words it
        "Cabinet adopts coast guard wartime rules",
        "The cabinet set procedures for placing the Japan Coast Guard under the defense minister in an "
        "armed attack.",
        {BUILDUP},
    ),
    (
        "海保の統制要領を初策定",
        "政府は有事に海上保安庁を防衛相の指揮下に置く統制要領を初めて策定した。",
        {BUILDUP},
    ),
    (  # a new command of the SDF
        "陸上総隊が発足",
        "陸上自衛隊の全国の部隊を一元的に指揮する陸上総隊が発足した。",
        {BUILDUP},
    ),
    (  # kit received
        "First F-35Bs reach Nyutabaru",
        "The Air Self-Defense Force received its first F-35B fighters at Nyutabaru.",
        {BUILDUP},
    ),
    (  # the Izumo made a carrier, whoever's jets test it
        "U.S. jets land on Izumo",
        "Two U.S. Marine F-35Bs landed on the Izumo, testing its conversion into an aircraft carrier.",
        {BUILDUP},
    ),
    (  # the SDF's own satellites
        "H3 lifts Kirameki 3",
        "The H3 rocket put the Kirameki-3 defense communications satellite into orbit for the "
        "Self-Defense Forces.",
        {BUILDUP},
    ),
    (  # ports and airports named for the SDF's use
        "Japan designates 16 airports and ports for SDF, coast guard use",
        "The facilities will be upgraded with public works funds, the government said.",
        {BUILDUP},
    ),
    (  # Japan's arms makers
        "Ministry lifts contractors' margins",
        "The Defense Ministry will raise profit margins to keep defense firms in the arms business.",
        {BUILDUP},
    ),
    (  # paying for U.S. troops
        "Trump wants more from Tokyo",
        "Trump asked Japan to quadruple its payments for U.S. troops, a report said.",
        {ALLIANCE},
    ),
    (  # nuclear sharing is a question of extended deterrence
        "安倍氏、核共有の議論を提起",
        "安倍元首相は、米国の核兵器を日本に配備して共同運用する核共有について議論すべきだと述べた。",
        {ALLIANCE},
    ),
    (  # leaders agreeing on joint training
        "Three leaders meet in Washington",
        "Prime Minister Kishida and President Biden agreed with the Philippine president to expand joint "
        "training at sea.",
        {ALLIANCE},
    ),
]


ROUNDS_27_TO_30_NEAR_MISSES: list[tuple[str, str, str]] = [
    (  # Japan's amphibious brigade, likened to the Marines (four writers labelled it not the alliance)
        "Japan launches first marine unit since World War II",
        "The GSDF's amphibious brigade, modeled on the U.S. Marine Corps, opened at Camp Ainoura in Sasebo.",
        ALLIANCE,
    ),
    (
        "「日本版海兵隊」水陸機動団が発足",
        "陸上自衛隊の水陸機動団が佐世保市の相浦駐屯地で発足した。米海兵隊をモデルにした部隊だ。",
        ALLIANCE,
    ),
    (  # the Philippines' defense secretary is not the Pentagon's
        "Japan, Philippines sign troop pact",
        "Foreign Minister Kamikawa and Defense Minister Kihara signed the pact with Defense Secretary "
        "Teodoro in Manila.",
        ALLIANCE,
    ),
    (  # the economic 2+2 in quotation marks
        "Japan, U.S. launch economic '2+2'",
        "Foreign Minister Hayashi and Secretary of State Blinken met in Washington for the dialogue on "
        "supply chains.",
        ALLIANCE,
    ),
    (  # a company's takeover defence
        "Couche-Tard withdraws bid for Seven & i",
        "The Japanese retailer had pursued its own defense plan against the takeover.",
        BUILDUP,
    ),
]

# --- probe rounds thirty-one to thirty-four ---------------------------------------------------------

ROUNDS_31_TO_34_FINDS: list[tuple[str, str, set[str]]] = [
    (  # the State Department clears a sale
        "State Department clears Tomahawk sale to Japan",
        "The State Department approved a possible sale of up to 400 Tomahawk missiles to Japan.",
        {ALLIANCE},
    ),
    (  # navies sailing together
        "Four navies sail together in South China Sea",
        "Warships of Japan, the United States, Australia and the Philippines sailed together on Sunday.",
        {ALLIANCE},
    ),
    (  # taxes raised to pay for defence
        "Japan to raise taxes from 2026",
        "Japan will raise corporate and tobacco taxes from April 2026 to fund defense, the ruling "
        "coalition decided.",
        {BUILDUP},
    ),
    (  # the GSDF's Ospreys on the move
        "GSDF Ospreys begin move to Saga",
        "The Ground Self-Defense Force's Ospreys began to move from Kisarazu to the new camp.",
        {BUILDUP},
    ),
]


ROUNDS_31_TO_34_NEAR_MISSES: list[tuple[str, str, str]] = [
    (  # a fighter Japan builds with Britain and Italy
        "次期戦闘機、日英伊で共同開発",
        "日本はこれまで米国との協力を軸に検討してきたが、"
        "英国、イタリアと次期戦闘機を共同開発する枠組みに切り替えた。",
        ALLIANCE,
    ),
]


ROUNDS_39_TO_44_FINDS: list[tuple[str, str, set[str]]] = [
    (  # relief flown from a U.S. base with the GSDF, the base named in the title
        "Army Black Hawks from Camp Zama fly supplies into quake-hit Noto",
        "Two U.S. Army UH-60 helicopters from Camp Zama flew food and water to cut-off villages in "
        "Wajima, working under the direction of the Ground Self-Defense Force.",
        {ALLIANCE},
    ),
    (  # USFJ told as the headquarters at Yokota paired with the JJOC at Ichigaya
        "Yokota command to gain operational duties",
        "The headquarters at Yokota Air Base will take on operational command in stages and work "
        "directly with the SDF's joint command at Ichigaya, U.S. officials said.",
        {USFJ, ALLIANCE},
    ),
    (  # the JJOC's launch, with USFJ as its counterpart a paragraph deep
        "統合作戦司令部が発足 約240人態勢",
        "陸海空自衛隊を一元的に指揮する統合作戦司令部が24日、防衛省内に発足した。"
        "初代司令官には南雲憲一郎空将が就いた。\n"
        "統合幕僚長は防衛相の補佐に専念する。司令官は記者会見で抱負を述べた。\n"
        "新司令部は米軍との調整も担う。米側は在日米軍を統合軍司令部に再構成し、"
        "新司令部のカウンターパートとする方針だ。",
        {USFJ, ALLIANCE, BUILDUP},
    ),
    (  # the JJOC by its description, before its name was settled
        "Japan's new permanent joint headquarters opens",
        "Gen. Kenichiro Nagumo took charge of Japan's new permanent joint headquarters, which can "
        "direct ground, sea and air units in a crisis.",
        {BUILDUP},
    ),
    (  # Japan's land-based missile defence by its Japanese short name
        "陸上イージス配備を停止 河野防衛相が表明",
        "河野太郎防衛相は、山口県と秋田県に予定していた陸上イージスの配備計画を停止すると表明した。"
        "ブースターを演習場内に確実に落とすには改修に10年以上かかると判断した。",
        {BUILDUP},
    ),
    (  # a many-nations exercise with Japan's forces named in it
        "MSDF destroyers join RIMPAC off Hawaii",
        "The Maritime Self-Defense Force's helicopter carrier Ise and two destroyers joined the RIMPAC "
        "exercise alongside U.S. Navy ships.",
        {ALLIANCE},
    ),
]


ROUNDS_39_TO_44_NEAR_MISSES: list[tuple[str, str, str]] = [
    (  # Japan one name in a list of 29 navies
        "RIMPAC wraps up with sinking of former USS Tarawa",
        "The exercise ended after a month of drills around Hawaii involving 29 nations and 40 surface "
        "ships. Forces used missiles and torpedoes to sink the decommissioned USS Tarawa. "
        "Participants included Australia, Canada, Chile, Colombia, Denmark, France, Germany, India, "
        "Indonesia, Israel, Japan, Malaysia and Mexico.",
        ALLIANCE,
    ),
    (  # a U.S. arms sale to someone else
        "U.S. approves $1.1 billion arms package for Taiwan",
        "The State Department approved a possible sale to Taiwan of 60 Harpoon anti-ship missiles and "
        "100 Sidewinder missiles, drawing protests from Beijing.",
        ALLIANCE,
    ),
    (  # another country's ministers meeting in a 2+2
        "米印が2プラス2 通信協定に署名",
        "米国とインドは外務・防衛担当閣僚協議（2プラス2）を開き、米国務長官と国防長官が出席した。"
        "両国は米軍とインド軍の通信に関する協定に署名した。",
        ALLIANCE,
    ),
    (  # Japan's budget request with its one line on hosting U.S. forces
        "防衛費、概算要求8.5兆円で過去最大",
        "防衛省は2025年度予算の概算要求を8兆5389億円とすることを決めた。"
        "長射程ミサイルの取得や自衛官の処遇改善に重点を置いた。\n"
        "在日米軍駐留経費の負担や米軍再編関係経費は、金額を示さない事項要求とした。",
        ALLIANCE,
    ),
    (  # Japan's white paper, the U.S. one clause in it
        "Japan's 2025 defence white paper warns of 'greatest trial since the war'",
        "The white paper warned that Chinese military drills around Taiwan may be part of moves toward "
        "unification and said U.S. policy under the Trump administration would affect the region. "
        "At Prime Minister Shigeru Ishiba's urging it added a section on the SDF's personnel.",
        ALLIANCE,
    ),
    (  # a U.S. radar on a U.S. site, an SDF base named as the first one's host
        "京丹後のXバンドレーダーが本格運用",
        "米軍経ヶ岬通信所で、弾道ミサイルを探知する早期警戒用のXバンドレーダーが本格運用を始めた。"
        "国内では航空自衛隊車力分屯基地に続く2基目の配備となる。レーダーは10月に米国から運び込まれた。",
        BUILDUP,
    ),
    (  # a contractor's record results
        "Mitsubishi Heavy posts record profit on gas turbines and defence",
        "Mitsubishi Heavy Industries reported record profit, driven by gas turbines for data centres "
        "and by a surge in defence contracts for missiles and ships.",
        BUILDUP,
    ),
    (  # the same in Japanese
        "三菱重工、最終益が過去最高 ガスタービン好調",
        "三菱重工業の連結決算は純利益が過去最高となった。発電用ガスタービンの受注が伸びた。\n"
        "事業別ではエネルギー部門が利益の柱となった。防衛・宇宙部門も政府の防衛力強化を受けて"
        "受注が高い水準を保った。\n"
        "来期も増益を見込み、ガスタービンの生産能力を増強する。",
        BUILDUP,
    ),
    (  # another country's defence review naming a project with Japan
        "UK review calls for 12 new attack submarines",
        "Britain's Strategic Defence Review called for up to 12 attack submarines, and Prime Minister "
        "Keir Starmer committed to raise defence spending to 2.5 percent of GDP. It also named the "
        "Global Combat Air Programme with Japan and Italy.",
        BUILDUP,
    ),
    (  # China's answer to the prime minister's remark, told from Beijing's side
        "China tells citizens to avoid Japan as row over Takaichi's Taiwan remarks deepens",
        "China advised its citizens to avoid travel to Japan after Prime Minister Sanae Takaichi said a "
        "Chinese attack on Taiwan could constitute a survival-threatening situation for Japan. "
        "Chinese airlines offered free cancellations.",
        BUILDUP,
    ),
    (  # the same in Japanese
        "中国、自国民に日本への渡航自粛を呼びかけ 高市首相の答弁に反発",
        "中国外務省は、高市首相が台湾有事は存立危機事態になり得ると答弁したことに反発し、"
        "自国民に日本への渡航を控えるよう呼びかけた。",
        BUILDUP,
    ),
]


ROUNDS_45_TO_48_FINDS: list[tuple[str, str, set[str]]] = [
    (  # a prime minister before Congress, the title naming neither country's forces
        "Kishida tells Congress 'you are not alone'",
        "Prime Minister Fumio Kishida addressed a joint meeting of the U.S. Congress, the first "
        "Japanese leader to do so since Shinzo Abe in 2015.\n"
        "He urged Americans tired of carrying the burden of global leadership not to turn inward, "
        "saying Japan already stood shoulder to shoulder with them.\n"
        "He cited the decision to raise defence spending as evidence of a larger role in the "
        "alliance.",
        {ALLIANCE},
    ),
    (  # navies sailing together in waters named after a neighbour
        "Four navies sail together in Philippine waters",
        "Ships from the Philippines, the United States, Japan and Australia held their first "
        "maritime cooperative activity; the destroyer JS Akebono sailed with USS Mobile.",
        {ALLIANCE},
    ),
    (  # the JJOC's launch told in English with its U.S. counterpart in the same sentence
        "Japan stands up Joint Operations Command to direct SDF and work with U.S. forces",
        "Japan launched the Self-Defense Forces' Joint Operations Command in Ichigaya with about 240 "
        "personnel, to command ground, maritime and air units and to work with U.S. Forces Japan.",
        {BUILDUP},
    ),
    (  # the airports and ports readied for the SDF, by their English name
        "Government designates 16 airports, ports for SDF use",
        'The government designated 16 airports and seaports as "specific-use" public infrastructure '
        "that the Self-Defense Forces can use routinely in peacetime.",
        {BUILDUP},
    ),
    (  # a leaders' meeting whose title promises more defence
        "Takaichi joins Trump aboard carrier, promises stronger defence",
        "Prime Minister Sanae Takaichi told sailors aboard the USS George Washington that Japan would "
        "fundamentally strengthen its defense capabilities and raise defense spending.",
        {ALLIANCE, BUILDUP},
    ),
]


ROUNDS_45_TO_48_NEAR_MISSES: list[tuple[str, str, str]] = [
    (  # an American election, Japan's congratulations and a line on the bases
        "米大統領選、トランプ氏が勝利",
        "米大統領選でトランプ前大統領が勝利した。石破首相は祝意を示し、日米同盟の強化を確認したいと述べた。"
        "前政権は在日米軍の駐留経費の増額を求めていた。",
        ALLIANCE,
    ),
    (  # the U.S. and China trading, Japan absent
        "米中首脳が釜山で会談",
        "米中首脳が会談し、中国はレアアースの輸出規制を1年延期することで合意した。"
        "米国も半導体の輸出規制の一部を緩める。",
        ALLIANCE,
    ),
    (  # Japan buying U.S.-made fighters: a line of its own build-up, not a transaction
        "Japan to buy 105 more U.S.-made F-35 fighters",
        "Japan will buy 105 more U.S.-made F-35 stealth fighters, including 42 of the F-35B, the "
        "Cabinet decided.",
        ALLIANCE,
    ),
    (  # Japan invited into another pact's projects
        "AUKUS partners to consult Japan on Pillar II projects",
        "The United States, Britain and Australia said they would consult Japan on Pillar II projects "
        "such as hypersonic weapons and undersea capabilities.",
        BUILDUP,
    ),
    (  # the leaders' carrier speech, the spending pledge one line in it
        "Trump and Takaichi tout alliance aboard carrier at Yokosuka",
        "President Donald Trump and Prime Minister Sanae Takaichi addressed sailors aboard the USS "
        "George Washington. Takaichi said Japan would fundamentally strengthen its defense "
        "capabilities, and both hailed a golden age for the alliance.",
        BUILDUP,
    ),
    (  # an SDF accident
        "GSDF helicopter carrying division chief disappears off Miyako",
        "A Ground Self-Defense Force UH-60 carrying the commander of the 8th Division disappeared off "
        "Miyako Island; the GSDF's camp on the island joined the search.",
        BUILDUP,
    ),
    (  # a shooting at a range
        "Recruit kills two instructors at Self-Defense Force shooting range",
        "A Self-Defense Force recruit opened fire at a Ground Self-Defense Force range in Gifu, "
        "killing two instructors during live-fire training for new recruits.",
        BUILDUP,
    ),
    (  # a contractor's results, the defence orders one line
        "三菱重工、受注高が過去最高 防衛・宇宙とガスタービンがけん引",
        "三菱重工業の受注高が過去最高となった。政府の防衛力強化でスタンド・オフ・ミサイルの受注が伸び、"
        "ガスタービンも好調だった。",
        BUILDUP,
    ),
]


ROUNDS_49_TO_52_FINDS: list[tuple[str, str, set[str]]] = [
    (  # a trilateral summit whose title lists the countries with commas
        "Camp David summit: U.S., Japan, South Korea pledge to consult in crises",
        "President Biden hosted Prime Minister Fumio Kishida and South Korean President Yoon Suk Yeol "
        "at the presidential retreat in Maryland on Aug. 18, 2023, the first standalone summit of the "
        "three leaders after years in which they met only on the sidelines of larger gatherings.\n"
        "They agreed to hold trilateral exercises every year and to share North Korean missile-warning "
        "data in real time.",
        {ALLIANCE},
    ),
    (  # Japan's fighters named by nationality, flying with a U.S. bomber
        "U.S. B-52 flies with Japanese, South Korean fighters in trilateral drill",
        "A U.S. Air Force B-52H bomber flew with South Korean and Japanese fighter jets near the Korean "
        "Peninsula in a trilateral air exercise, the three militaries said.",
        {ALLIANCE},
    ),
    (  # missile warnings shared, in Japanese
        "日米韓、ミサイル警戒情報の即時共有を開始",
        "日米韓3か国は、北朝鮮が発射する弾道ミサイルの警戒情報を即時に共有する仕組みの運用を始めた。",
        {ALLIANCE},
    ),
    (  # four navies' joint activity, in Japanese
        "日米豪比が南シナ海で初の共同活動",
        "日米豪比の4か国は南シナ海で初の海上協同活動を行い、海上自衛隊の護衛艦が参加した。",
        {ALLIANCE},
    ),
    (  # a new SDF unit for space
        "ASDF launches first space unit at Fuchu",
        "Japan's Air Self-Defense Force launched its first space unit, the roughly 20-member Space "
        "Operations Squadron, "
        "at Fuchu Air Base to monitor space debris and suspicious satellites.",
        {BUILDUP},
    ),
]


ROUNDS_53_TO_56_FINDS: list[tuple[str, str, set[str]]] = [
    (  # a prime minister's proposal, the title naming another alliance and the Japanese leader
        "Ishiba's 'Asian NATO' idea gets cool reception in Washington",
        "Prime Minister Shigeru Ishiba's proposal for an Asian NATO and a more equal U.S.-Japan "
        "alliance, including revising the Status of Forces Agreement, drew a cool response from U.S. "
        "officials.",
        {ALLIANCE},
    ),
    (  # Japan's assembly line for the F-35
        "First Japanese-assembled F-35A rolls out at Mitsubishi Heavy plant",
        "Mitsubishi Heavy Industries rolled out the first F-35A assembled in Japan at its final "
        "assembly and check-out facility in Aichi, for the Air Self-Defense Force.",
        {BUILDUP},
    ),
    (  # a new brigade activated
        "Japan activates first marine-style amphibious unit since WWII",
        "The Ground Self-Defense Force activated the Amphibious Rapid Deployment Brigade at Camp "
        "Ainoura in Sasebo, a 2,100-strong brigade tasked with retaking remote islands.",
        {BUILDUP},
    ),
    (  # Japan's defence budget by its Japanese name in the title
        "24年度防衛費7.9兆円、過去最大",
        "政府が閣議決定した2024年度予算案で、前年度から1兆円余り増え、12年連続で過去最大となった。",
        {BUILDUP},
    ),
]


ROUNDS_53_TO_56_NEAR_MISSES: list[tuple[str, str, str]] = [
    (  # a shooting at a range, told with "opens fire"
        "SDF recruit opens fire at Gifu range, killing two",
        "A Ground Self-Defense Force recruit opened fire with his rifle during live-fire training at a "
        "range in Gifu, killing two instructors; the GSDF said ammunition handling would be reviewed.",
        BUILDUP,
    ),
]


ROUNDS_57_TO_60_FINDS: list[tuple[str, str, set[str]]] = [
    (  # the launch phrase read through corner brackets (round 58), with USFJ in the title
        "自衛隊「統合作戦司令部」が発足 在日米軍との連携が課題",
        "陸海空自衛隊を一元的に指揮する「統合作戦司令部」が24日、市ケ谷に発足した。在日米軍との調整役を担う。",
        {BUILDUP},
    ),
]


ROUNDS_61_TO_67_FINDS: list[tuple[str, str, set[str]]] = [
    (  # the SDF guarding a U.S. ship, the security laws' new mission (four rounds)
        "Izumo guards U.S. supply ship on first mission under security laws",
        "The helicopter carrier Izumo sailed from Yokosuka to escort a U.S. Navy supply ship off the Boso "
        "Peninsula, the first asset protection mission for U.S. forces since the security laws took effect.\n"
        "The laws let the SDF protect U.S. ships in peacetime. The government did not announce the "
        "operation.",
        {ALLIANCE, BUILDUP},
    ),
    (  # the same mission in Japanese
        "護衛艦、米補給艦を防護 安保法の新任務",
        "海上自衛隊の護衛艦が房総半島沖で米海軍の補給艦と合流し、平時に米軍の艦船を守る「武器等防護」に初めて就いた。\n"
        "政府は実施状況を公表していない。",
        {ALLIANCE, BUILDUP},
    ),
    (  # the rush-to-rescue mission given to peacekeepers (three rounds)
        "南スーダンPKOに「駆け付け警護」 新任務を付与",
        "政府は閣議で、南スーダンに派遣する陸上自衛隊の部隊に安全保障関連法に基づく新任務「駆け付け警護」を付与した。\n"
        "防衛相は任務は限定的だと説明した。",
        {BUILDUP},
    ),
    (  # the defence minister resigns over the hidden logs (four rounds)
        "Defense Minister Inada quits over hidden peacekeeping logs",
        "Defense Minister Tomomi Inada resigned after an inspection found the Ground Self-Defense Force had "
        "kept daily logs from its South Sudan mission that the ministry said were discarded.\n"
        "The GSDF chief of staff also stepped down.",
        {BUILDUP},
    ),
    (  # the logs in Japanese
        "陸自PKO日報、保管を確認 防衛省が特別監察",
        "南スーダンPKOに派遣された陸上自衛隊の日報が陸自内に保管されていたことが分かり、防衛省は特別監察を始めた。",
        {BUILDUP},
    ),
    (  # members dismissed over harassment
        "Defense Ministry dismisses five GSDF members over harassment",
        "The Defense Ministry dismissed five Ground Self-Defense Force members over the sexual "
        "harassment of a "
        "former colleague and set up a panel to review prevention.",
        {BUILDUP},
    ),
    (  # a co-developed interceptor's test: the two countries' programme, and Japan's (six rounds to three)
        "Jointly developed interceptor hits target in first test",
        "An SM-3 Block IIA fired from a U.S. destroyer off Hawaii destroyed a ballistic missile target, "
        "the U.S. "
        "Missile Defense Agency and Japan's Defense Ministry said, the first intercept by the missile "
        "the two "
        "countries developed together.",
        {ALLIANCE, BUILDUP},
    ),
    (  # Japan's own destroyer firing it is Japan's capability
        "Japanese Aegis destroyer downs target off Hawaii",
        "The Maritime Self-Defense Force destroyer Maya intercepted a ballistic missile target with an "
        "SM-3 Block "
        "IIA off Kauai, confirming the missile defence capability of the MSDF's newest Aegis ship.",
        {BUILDUP},
    ),
    (  # the defence plans by their own names, without the word Japan
        "New defence guidelines approve carrier refit and more F-35s",
        "The Cabinet adopted new National Defense Program Guidelines and a Medium Term Defense Program, with "
        "spending of about 27 trillion yen over five years.\n"
        "The plans call for modifying the Izumo-class destroyers to carry short take-off fighters.",
        {BUILDUP},
    ),
    (  # a defence secretary of an earlier administration meets his counterpart
        "Mattis reassures Tokyo on Senkakus",
        "Defense Secretary Jim Mattis told Defense Minister Tomomi Inada that Washington's commitment "
        "to defend "
        "the Senkaku Islands was unchanged, on his first trip abroad.",
        {ALLIANCE},
    ),
    (  # four nations' drill written 日米印豪, with the MSDF taking part
        "日米印豪がベンガル湾で共同訓練",
        "日米印豪の海軍などによる共同訓練「マラバール」が始まり、海上自衛隊の護衛艦が米海軍の駆逐艦とともに参加した。",
        {ALLIANCE},
    ),
    (  # both navies' ships named together in a four-nation sail
        "Four navies sail together in Philippine waters",
        "Warships from the Philippines, the United States, Japan and Australia, including JS Akebono and USS "
        "Mobile, held their first maritime cooperative activity in the Philippine EEZ.",
        {ALLIANCE},
    ),
    (  # the upgrade's possible cancellation, told as a war-fighting command
        "Pentagon weighs scrapping plan for war-fighting command in Tokyo",
        "The Pentagon is considering dropping a plan to turn its headquarters at Yokota Air Base into a "
        "war-fighting command that would work with Japan's new joint operations command, a report said.\n"
        "Tokyo said it had not been told of any change.",
        {USFJ},
    ),
    (  # a new Aegis destroyer commissioned
        "イージス艦「まや」就役 横須賀に配備",
        "海上自衛隊の新型イージス艦「まや」が就役し、横須賀基地に配備された。",
        {BUILDUP},
    ),
    (  # the MSDF's fleets reorganised
        "MSDF to scrap Escort Fleet in biggest shake-up since founding",
        "The Maritime Self-Defense Force will abolish its Escort Fleet and gather its ships under a new "
        "Surface "
        "Fleet, the Defense Ministry said.",
        {BUILDUP},
    ),
    (  # a debate on nuclear sharing
        "安倍元首相、「核共有」の議論を提起",
        "安倍元首相は、米国の核兵器を日本に配備して共同運用する「核共有」について議論すべきだと述べた。政府は非核三原則を堅持する立場だ。",
        {BUILDUP},
    ),
]


ROUNDS_68_TO_70_FINDS: list[tuple[str, str, set[str]]] = [
    (  # the constitution amended to name the SDF (rounds 69 and 70)
        "Abe sets 2020 target for amended Constitution recognizing SDF",
        "Prime Minister Shinzo Abe said he wanted an amended Constitution that explicitly recognizes the "
        "Self-Defense Forces to take effect in 2020, adding a clause to Article 9.",
        {BUILDUP},
    ),
    (  # long-range cruise missiles for the ASDF's fighters
        "空自戦闘機に長距離巡航ミサイル導入へ",
        "小野寺防衛相は、航空自衛隊の戦闘機に搭載する長距離巡航ミサイルを導入すると表明した。",
        {BUILDUP},
    ),
    (  # the first mission to protect a U.S. ship, without the words "asset protection"
        "Japan's largest warship begins first mission to protect U.S. Navy vessel",
        "The helicopter carrier Izumo of Japan's Maritime Self-Defense Force left Yokosuka to protect a U.S. "
        "Navy supply ship, the first such mission under the security laws.",
        {ALLIANCE, BUILDUP},
    ),
]


ROUNDS_71_TO_73_FINDS: list[tuple[str, str, set[str]]] = [
    (  # a model number in the plural (round 73)
        "Japanese destroyers intercept targets with SM-3s in Hawaii tests",
        "Two Maritime Self-Defense Force destroyers intercepted ballistic missile targets off Kauai "
        "with SM-3s, the Defense Ministry said.",
        {BUILDUP},
    ),
]


ROUNDS_77_TO_92_FINDS: list[tuple[str, str, set[str]]] = [
    (  # the SDF's Patriot batteries sent to the islands before a North Korean launch (rounds 77, 83)
        "PAC-3 units moved to western Japan after North Korea's threat",
        "The Air Self-Defense Force placed Patriot interceptor units at camps in Shimane, Hiroshima and "
        "Kochi after Pyongyang threatened to fire missiles over them.",
        {BUILDUP},
    ),
    (  # collective self-defence, with only the prime minister's name for Japan (round 79)
        "Abe cabinet reinterprets Constitution to allow collective self-defence",
        "Prime Minister Shinzo Abe's cabinet approved a reinterpretation of the Constitution to allow "
        "collective self-defence.",
        {BUILDUP},
    ),
    (  # an SDF mission abroad (round 77, in both languages)
        "Destroyer Takanami departs for Middle East mission",
        "The Maritime Self-Defense Force destroyer Takanami left Yokosuka for an information-gathering "
        "mission in the Middle East.",
        {BUILDUP},
    ),
    (  # fixed-wing jets on the Izumo: the carrier conversion (rounds 77, 79)
        "U.S. Marine F-35Bs land on JS Izumo",
        "Two Marine Corps F-35B fighters landed on the Maritime Self-Defense Force's Izumo off Shikoku, "
        "the first fixed-wing aircraft on a Japanese warship since the war.",
        {ALLIANCE, BUILDUP},
    ),
    (  # a new unit named in the title (round 84)
        "Japan launches amphibious brigade at Sasebo",
        "The Ground Self-Defense Force inaugurated the Amphibious Rapid Deployment Brigade, its first "
        "marine unit.",
        {BUILDUP},
    ),
    (  # a unit activated on an island (round 83)
        "Troops arrive on Yonaguni, 110 km from Taiwan",
        "The Ground Self-Defense Force activated a coastal observation unit on Yonaguni.",
        {BUILDUP},
    ),
    (  # the state buying an island for an SDF base (rounds 77, 78)
        "Government agrees to buy Mageshima",
        "The government agreed to buy the uninhabited island from its owner. The Defense Ministry "
        "plans a Self-Defense Forces base there.",
        {BUILDUP},
    ),
    (  # a U.S. helicopter's emergency landing, 不時着し (round 79)
        "米軍ヘリ、東村高江に不時着し炎上",
        "沖縄県東村高江の牧草地に米海兵隊の大型輸送ヘリが不時着し、炎上した。",
        {ALLIANCE},
    ),
    (  # U.S. Ospreys in a disaster title (round 77)
        "Marine Ospreys fly relief supplies to quake-hit Kumamoto",
        "U.S. Marine Corps MV-22 Ospreys from Futenma carried relief supplies after the earthquake.",
        {ALLIANCE},
    ),
    (  # Japan's Patriots sold to the U.S. (round 80)
        "Japan loosens its export rules",
        "Interceptor missiles made by Mitsubishi Heavy Industries under license will be sold to the "
        "United States to replenish its stocks.",
        {ALLIANCE},
    ),
    (  # the build-up's funding law, passed by the Diet (round 82)
        "Diet enacts law creating fund to pay for defense buildup",
        "The House of Councillors passed the defense funding law, pooling non-tax revenue for the "
        "five-year program.",
        {BUILDUP},
    ),
    (  # the fighter built with Britain and Italy, not named GCAP (round 82)
        "Tokyo resists Saudi bid to join fighter jet partnership",
        "Japan opposed Saudi Arabia's request to join the fighter jet program it is developing with "
        "Britain and Italy.",
        {BUILDUP},
    ),
    (  # the ministry buying a site for an equipment complex (round 82)
        "Defense Ministry eyes closed steelworks",
        "The Defense Ministry told the city that it hopes to acquire the site of the closing steel mill "
        "to build a complex for making and storing equipment.",
        {BUILDUP},
    ),
    (  # Japanese and U.S. headquarters side by side (round 81; rounds 65, 70 and 75 labelled it so)
        "GSDF command moves in beside U.S. Army headquarters at Camp Zama",
        "The Ground Self-Defense Force's Central Readiness Force headquarters moved to Camp Zama, joining "
        "the headquarters of U.S. Army Japan. Co-location allows daily contact between the two staffs.",
        {USFJ, ALLIANCE},
    ),
    (  # the GSDF's Japan-U.S. department at Zama (round 81)
        "陸自「陸上総隊」を新編 キャンプ座間に「日米共同部」",
        "陸上総隊司令部の日米共同部は、在日米陸軍司令部があるキャンプ座間に置かれ、米陸軍との連絡・調整にあたる。",
        {USFJ, ALLIANCE, BUILDUP},
    ),
    (  # the ASDF's air defence command moved beside USFJ (the shared set's dev item of 2012)
        "空自航空総隊司令部が横田基地に移転",
        "航空自衛隊の航空総隊司令部が府中基地から横田基地に移転した。",
        {BUILDUP},
    ),
    (  # the Joint Staff created (round 81)
        "「統合幕僚監部」が発足",
        "防衛庁は陸海空3自衛隊の部隊運用を一元的に担う統合幕僚監部を発足させた。",
        {BUILDUP},
    ),
    (  # the U.S.-Japan industrial forum by its name alone (round 88)
        "Third DICAS meeting approves co-production plans",
        "Officials approved action plans for jointly producing AMRAAM and PAC-3 missiles.",
        {ALLIANCE},
    ),
    (  # the ruling bloc's taxes to fund defence (round 86)
        "Ruling bloc sets start for surtaxes to fund defense",
        "The parties agreed to raise corporate and tobacco taxes from April 2026.",
        {BUILDUP},
    ),
    (  # the F-2's successor, in a title naming Britain and Italy (round 86)
        "F2後継機、英伊と共同開発",
        "防衛省は、航空自衛隊のF2後継機を英国、イタリアと共同開発すると発表した。",
        {BUILDUP},
    ),
    (  # the ASDF's new jets landing at their base (round 88)
        "First ASDF F-35Bs land at Nyutabaru",
        "The short-takeoff fighters will be based in Miyazaki Prefecture.",
        {BUILDUP},
    ),
    (  # the ministry's basic policy (round 88)
        "防衛省、AI活用の基本方針を策定",
        "防衛省は人工知能の活用に関する基本方針を初めて策定した。",
        {BUILDUP},
    ),
    (  # a U.S. Marine's sentence, "Marine" in the title (round 85)
        "Seven-year term final for Marine in Okinawa assault case",
        "The sentence of Lance Cpl. Jamel Clayton became final after the high court upheld his conviction "
        "for assaulting a woman on Okinawa.",
        {ALLIANCE},
    ),
    (  # U.S. helicopters in a disaster title (round 85)
        "Army Black Hawks ferry relief cargo to quake-hit Noto",
        "U.S. Army UH-60 Black Hawks from Camp Zama carried supplies with the Self-Defense Forces after "
        "the earthquake.",
        {ALLIANCE},
    ),
    (  # a contract with the U.S. government (round 91)
        "トマホーク最大400発、米政府と契約",
        "防衛省は米政府と巡航ミサイル・トマホーク最大400発の購入契約を結んだ。",
        {ALLIANCE},
    ),
    (  # the Defense Agency made a ministry (round 90)
        "Defense Agency becomes a ministry",
        "Japan's Defense Agency was upgraded to a full ministry on Tuesday.",
        {BUILDUP},
    ),
    (  # a contractor leaving the SDF's vehicles (round 90)
        "コマツ、自衛隊向け装甲車の開発から撤退",
        "コマツは自衛隊向け装甲車の新規開発から撤退する。防衛事業の採算が低いためだ。",
        {BUILDUP},
    ),
    (  # the amphibious brigade's launch in Japanese (round 90)
        "水陸機動団が発足 離島奪還を担う",
        "陸上自衛隊の水陸機動団が発足した。",
        {BUILDUP},
    ),
    (  # taxes for defence, told by the ruling parties (rounds 86, 89, 90)
        "Ruling bloc sets tax hikes for defence from 2026",
        "The Liberal Democratic Party and Komeito agreed to raise corporate and tobacco taxes.",
        {BUILDUP},
    ),
    (  # the export rules' guidelines revised, in a title naming Ukraine (round 82)
        "ウクライナに防弾チョッキ提供 運用指針を改定",
        "政府は防衛装備移転三原則の運用指針を改定し、自衛隊の防弾チョッキをウクライナに提供する。",
        {BUILDUP},
    ),
]


ROUNDS_97_TO_112_FINDS: list[tuple[str, str, set[str]]] = [
    (  # an SDF base built on an island that will also host U.S. training (rounds 97, 99, 102, 103)
        "馬毛島の自衛隊基地が着工　米軍の訓練も移転",
        "防衛省は馬毛島で自衛隊基地の本体工事に着手した。滑走路2本を整備し、米軍機の離着陸訓練も移転する。",
        {BUILDUP},
    ),
    (  # a unit on a southwestern island, with no deployment word beside it (round 101)
        "GSDF opens radar post on Japan's westernmost island",
        "About 160 Ground Self-Defense Force members began operating a coastal observation unit on Yonaguni, "
        "near Taiwan.",
        {BUILDUP},
    ),
    (  # the island and the deployment a long clause apart (round 102)
        "Koizumi says island missile plan on track",
        "Defense Minister Shinjiro Koizumi toured Yonaguni, the westernmost inhabited island of Japan and "
        "about 110 kilometres east of Taiwan, and said plans to deploy a Ground Self-Defense Force missile "
        "unit there were on track.",
        {BUILDUP},
    ),
    (  # an export rule for a fighter, with Japan named by its prime minister (round 103)
        "Cabinet allows exports of next-generation fighter",
        "Prime Minister Fumio Kishida's cabinet agreed to let the fighter jet being developed with Britain "
        "and Italy be exported to third countries.",
        {BUILDUP},
    ),
    (  # the old name of the export rules (round 101)
        "武器輸出三原則を緩和　官房長官が談話",
        "政府は官房長官談話を発表し、武器輸出三原則を緩和して国際共同開発への参加を認めた。",
        {BUILDUP},
    ),
    (  # a president's word on the treaty, by the name of an earlier president (round 101)
        "Obama says treaty covers the Senkakus",
        "President Barack Obama said in Tokyo that the U.S. treaty commitment to Japan's security covers the "
        "Senkaku Islands, standing beside Prime Minister Shinzo Abe.",
        {ALLIANCE},
    ),
    (  # Japan's new command, with a paragraph on being USFJ's counterpart (rounds 101, 102)
        "Japan launches Joint Operations Command",
        "The Self-Defense Forces set up a standing command in Ichigaya to direct ground, sea and air units.\n"
        "Defense officials said decisions in a crisis would come faster.\n"
        "The command is meant to be the counterpart of U.S. Forces Japan, which Washington plans to turn "
        "into a joint force headquarters.",
        {USFJ, ALLIANCE, BUILDUP},
    ),
    (  # U.S. jets trying out a Japanese carrier (rounds 100, 102, 104)
        "F-35Bs land on Japanese warship Kaga off California",
        "Two F-35B jets from a U.S. test team landed on and took off from the Japanese destroyer Kaga, "
        "testing the converted carrier for the fighters Japan is buying.",
        {ALLIANCE, BUILDUP},
    ),
    (  # the leaders' pledge that began the command upgrade, titled with their names (round 98)
        "Biden and Kishida agree to upgrade command and control",
        "President Joe Biden and Prime Minister Fumio Kishida agreed at the White House that their countries "
        "would upgrade their frameworks to work together seamlessly.",
        {USFJ, ALLIANCE},
    ),
    (  # the leaders' pledge in the body of a state-visit story (round 105)
        "Biden hosts Kishida for state visit",
        "President Joe Biden hosted Prime Minister Fumio Kishida at the White House on Wednesday, and the "
        "two leaders said they would upgrade their command and control frameworks so their forces can work "
        "seamlessly.",
        {USFJ, ALLIANCE},
    ),
    (  # three governments sharing missile warning data, a sentence after they are named (rounds 104, 105)
        "日米韓、北朝鮮ミサイル情報の即時共有を開始",
        "日米韓3カ国は、北朝鮮が発射する弾道ミサイルの飛行について、各国のレーダーがとらえた警戒データを即時に"
        "共有する仕組みを動かし始めた。",
        {ALLIANCE},
    ),
    (  # U.S.-made missiles bought under a contract with the U.S. government (round 110)
        "防衛省、米政府とトマホーク取得契約",
        "防衛省は米国製巡航ミサイル「トマホーク」を最大400発取得する契約を米政府と結んだ。",
        {ALLIANCE, BUILDUP},
    ),
    (  # a named exercise whose only partners named are 日米韓 (round 109)
        "日米韓が3回目の「フリーダム・エッジ」",
        "日米韓3か国は、多領域にわたる共同訓練「フリーダム・エッジ」を実施した。防空や対潜戦の訓練を行った。",
        {ALLIANCE},
    ),
    (  # a three-way summit titled 日米比 whose security content is the drills it agrees (round 109)
        "初の日米比首脳会談　南シナ海に懸念",
        "3首脳はホワイトハウスで会談し、南シナ海での中国の行動に懸念を表明した。3か国の部隊による海上共同訓練を"
        "拡大することで一致した。",
        {ALLIANCE},
    ),
    (  # the carrier trials told with the Japanese ship and the jet in the title, the U.S. pilots in the body
        "護衛艦「かが」でF35Bの発着艦試験　米西海岸沖",  # (rounds 107, 112)
        "海上自衛隊の護衛艦「かが」は10月から11月にかけて、カリフォルニア州サンディエゴ沖で、短距離離陸・垂直着陸が"
        "できるステルス戦闘機F35Bの発着艦試験を行った。改修後の艦で戦闘機が発着艦するのは初めて。\n"
        "試験には米海兵隊などの試験部隊のF35Bと操縦士が参加し、甲板の耐熱性を確かめた。",
        {ALLIANCE, BUILDUP},
    ),
    (  # the MSDF's new patrol ships launched (round 111)
        "海自の新型哨戒艦2隻が進水",
        "海上自衛隊の新型哨戒艦の1番艦と2番艦の進水式が横浜市の造船所で行われた。防衛省は計12隻を建造する。",
        {BUILDUP},
    ),
]


ROUNDS_129_TO_152_FINDS: list[tuple[str, str, set[str]]] = [
    (  # the upgrade in its usual Japanese name, 在日米軍の機能強化, with no command noun (round 131)
        "在日米軍の機能強化、見直し論も",
        "米政府内で在日米軍の機能強化計画を縮小する案が出ていると米メディアが伝えた。",
        {USFJ, ALLIANCE},
    ),
    (  # the Yokota headquarters taking on operations with the SDF, USFJ never named (rounds 131, 133)
        "More staff for Yokota headquarters",
        "The U.S. military will add several hundred officers to the headquarters at Yokota Air Base so that "
        "it can plan and command operations with the Self-Defense Forces.",
        {USFJ, ALLIANCE},
    ),
    (  # Japanese-made interceptors sent to refill U.S. stocks (rounds 131, 135)
        "Cabinet clears Patriot interceptors for export to United States",
        "The missiles, made under licence, will refill depleted stocks.",
        {ALLIANCE},
    ),
    (  # the third non-nuclear principle and U.S. port calls (rounds 132, 136, 150; four items)
        "Prime minister open to reviewing 'no introduction' principle",
        "The government will review its security documents next year.\n"
        "Some ruling-party lawmakers say a strict ban on U.S. submarines with nuclear weapons making port "
        "calls weakens extended deterrence.\nSurvivors' groups protested.",
        {ALLIANCE},
    ),
    (  # the Extended Deterrence Dialogue in plain words (round 132)
        "日米の当局者、米戦略軍を訪問",
        "日米両政府の審議官級協議で、日本側は米国の核抑止力の運用について説明を受けた。",
        {ALLIANCE},
    ),
    (  # a U.S. base's land to be handed back (round 130)
        "City asks for earlier return of Camp Kinser",
        "Urasoe asked the government to speed the return of Camp Kinser, whose warehouses are to move to "
        "other bases.",
        {ALLIANCE},
    ),
    (  # a U.S. ammunition depot moved (round 130)
        "前畑弾薬庫の移設工事が進む",
        "佐世保市の前畑弾薬庫を針尾島へ移設する工事が本格化した。",
        {ALLIANCE},
    ),
    (  # U.S.-only fighters rotating through a base in Japan (round 129)
        "F-22s arrive at Kadena",
        "A dozen F-22 Raptors landed on the Okinawa base for a six-month rotation.",
        {ALLIANCE},
    ),
    (  # a surtax for the SDF (round 132)
        "Surtax to pay for SDF to start in April",
        "The corporate surtax will fund Japan's higher spending on its forces.",
        {BUILDUP},
    ),
    (  # the ministry's fighter purchases, Japan named only through it (round 129)
        "Misawa wing completes switch to stealth fighters",
        "The Defense Ministry plans to buy 147 F-35s, and the next squadron will form at Komatsu.",
        {BUILDUP},
    ),
    (  # the Joint Operations Command growing, USFJ named in the same title (rounds 137, 139, 144)
        "統合作戦司令部を増員へ　在日米軍との調整強化",
        "防衛省は統合作戦司令部の要員を来年度に約100人増やす。",
        {BUILDUP},
    ),
    (  # Japanese-made missiles sent to U.S. stocks: the export rules (rounds 134, 135, 137)
        "Japan to send PAC-3 interceptors to U.S.",
        "The interceptors, made under a U.S. licence, will refill American stocks.",
        {BUILDUP},
    ),
    (  # the Henoko landfill's soft seabed, the U.S. never named (round 139)
        "大浦湾の地盤改良、工期9年",
        "沖縄防衛局はキャンプ・シュワブ沖の大浦湾で軟弱地盤を改良する工事の計画を示した。",
        {ALLIANCE},
    ),
    (  # "trade" as a verb in a title about U.S. fighters (round 142)
        "Misawa wing to trade F-16s for F-35As",
        "The U.S. Air Force will station 48 F-35As at Misawa Air Base.",
        {ALLIANCE},
    ),
    (  # the treaty and the Senkakus, Japan named only by its minister (round 142)
        "Rubio, Iwaya reaffirm Senkaku commitment",
        "The secretary of state and the foreign minister confirmed that the security treaty covers the "
        "Senkaku Islands, and Rubio opposed China's attempts to change the status quo.",
        {ALLIANCE},
    ),
    (  # Japan's amphibious brigade with U.S. and Philippine marines (round 138)
        "水陸機動団、米比海兵隊とルソン島で訓練",
        "陸上自衛隊の水陸機動団が米海兵隊、フィリピン海兵隊と共同訓練を行った。",
        {ALLIANCE},
    ),
    (  # the U.S. headquarters at Yokota taking on operational roles (round 143)
        "Fussa asks about bigger U.S. headquarters",
        "The mayor asked how many more people will work at Yokota Air Base as the U.S. headquarters there "
        "takes on operational roles.",
        {USFJ, ALLIANCE},
    ),
    (  # USFJ's headquarters adding people, the upgrade's own word never used (round 145)
        "在日米軍司令部、要員を増員へ",
        "在日米軍司令部は横田基地の要員を段階的に増員し、新庁舎を建てる。",
        {USFJ, ALLIANCE},
    ),
    (  # the Joint Operations Command by another of its names (round 148)
        "SDF stands up permanent operations command",
        "The new headquarters in Ichigaya directs the ground, maritime and air forces.",
        {BUILDUP},
    ),
    (  # a U.S. Marine unit in a title that also suits Japan's marine-style brigade (round 146)
        "Allies agree to turn Okinawa Marine unit into littoral regiment",
        "The 12th Marine Regiment will become a littoral regiment, the ministers said in Tokyo.",
        {ALLIANCE},
    ),
    (  # missiles cleared "for U.S." stocks (round 147)
        "Japan loosens arms export rules, clears Patriot missiles for U.S.",
        "The Cabinet changed the rules so that licence-built interceptors can be exported.",
        {ALLIANCE},
    ),
    (  # Japan's crews trained on Tomahawk by the U.S. Navy: Japan's counterstrike (43 items, rounds 129-160)
        "MSDF crews begin Tomahawk training with U.S. Navy",
        "The Defense Ministry says the destroyers will carry the cruise missiles from next year.",
        {BUILDUP},
    ),
    (  # the leaders on a carrier, with the 2% pledge in the title (rounds 153, 158)
        "Takaichi tells Trump aboard carrier that Japan will hit 2% this year",
        "The prime minister said Japan would raise defense spending to 2% of GDP by March.",
        {BUILDUP},
    ),
    (  # other countries protesting a U.S. system shown at a base town (round 159)
        "China, Russia protest Typhon display at Iwakuni",
        "The U.S. Army showed the missile system at Iwakuni during drills with Japanese forces.",
        {ALLIANCE},
    ),
]


@pytest.mark.parametrize(
    ("title", "body", "expected"),
    ROUNDS_19_TO_22_FINDS
    + ROUNDS_23_TO_26_FINDS
    + ROUNDS_27_TO_30_FINDS
    + ROUNDS_31_TO_34_FINDS
    + ROUNDS_39_TO_44_FINDS
    + ROUNDS_45_TO_48_FINDS
    + ROUNDS_49_TO_52_FINDS
    + ROUNDS_53_TO_56_FINDS
    + ROUNDS_57_TO_60_FINDS
    + ROUNDS_61_TO_67_FINDS
    + ROUNDS_68_TO_70_FINDS
    + ROUNDS_71_TO_73_FINDS
    + ROUNDS_77_TO_92_FINDS
    + ROUNDS_97_TO_112_FINDS
    + ROUNDS_129_TO_152_FINDS,
)
def test_stories_found_by_probe_rounds_19_to_152(
    shipped: Matcher, title: str, body: str, expected: set[str]
) -> None:
    assert expected <= topics_of(shipped, title, body)


ROUNDS_61_TO_67_NEAR_MISSES: list[tuple[str, str, str]] = [
    (  # another country's prime minister, titled 英首相
        "英首相、国防費をGDP比2.5%に 前倒し",
        "英国のスターマー首相は、国防費をGDP比2.5%に引き上げる時期を前倒しすると表明した。政府は援助を削って財源に充てる。",
        BUILDUP,
    ),
    (  # and Canada's
        "カナダ首相、国防費のGDP比2%を今年度中に",
        "カナダのカーニー首相は、国防費をGDP比2%に引き上げる目標を今年度中に達成すると発表した。",
        BUILDUP,
    ),
    (  # the coast guard's drone at an MSDF base is not the SDF's kit
        "海保の無人機「シーガーディアン」運用開始 海自八戸基地を拠点に",
        "海上保安庁は無人機シーガーディアンの運用を始めた。海自八戸航空基地を拠点に、日本周辺の海域を監視する。",
        BUILDUP,
    ),
    (  # another alliance's 2+2 with officials of an earlier administration
        "U.S., India hold first 2+2 dialogue",
        "Secretary of State Mike Pompeo and Defense Secretary Jim Mattis met India's foreign and "
        "defense ministers "
        "in New Delhi and signed a communications pact.",
        ALLIANCE,
    ),
]


ROUNDS_71_TO_73_NEAR_MISSES: list[tuple[str, str, str]] = [
    (  # another country's defence spending, 国防費, with its leader named only by 首相 (round 73)
        "英国防費、27年までにGDP比2.5% スターマー首相が表明",
        "英国のスターマー首相は、国防費をGDP比2.5%に引き上げる時期を2027年に前倒しすると表明した。",
        BUILDUP,
    ),
]


ROUNDS_77_TO_92_NEAR_MISSES: list[tuple[str, str, str]] = [
    (  # another alliance's nuclear umbrella, with no Japan in it (round 84)
        "Biden, Yoon sign Washington Declaration",
        "The presidents agreed to set up a Nuclear Consultative Group to strengthen the U.S. nuclear "
        "umbrella over South Korea.",
        ALLIANCE,
    ),
    (  # a new SDF unit that will work with the U.S. Space Force (rounds 77, 83)
        "空自に宇宙作戦隊が発足",
        "航空自衛隊の宇宙作戦隊が府中基地に発足した。米宇宙軍とも連携する。河野防衛相が隊旗を授与した。",
        ALLIANCE,
    ),
    (  # a trade deal (round 77)
        "Abe, Trump seal deal on farm goods and digital trade",
        "Prime Minister Shinzo Abe and President Donald Trump signed the deal, and also discussed security "
        "and the U.S. forces in Japan.",
        ALLIANCE,
    ),
    (  # the ministry's budget request, leaving out U.S. realignment costs (round 80)
        "Defense Ministry seeks record 8.8 trillion yen",
        "The figure leaves out costs for the realignment of U.S. forces in Japan, which will be added in "
        "December.",
        ALLIANCE,
    ),
    (  # an SDF crash in whose search U.S. ships joined (round 78)
        "ASDF F-35A crashes off Aomori",
        "An Air Self-Defense Force F-35A from Misawa Air Base crashed into the Pacific, and U.S. Navy "
        "ships joined the search.",
        ALLIANCE,
    ),
    (  # a system bought from the U.S., told as Japan's own plan (round 78)
        "Japan halts Aegis Ashore plan",
        "Defense Minister Taro Kono halted the deployment of two Aegis Ashore systems purchased from the "
        "United States, as the interceptors' boosters could fall outside the training area.",
        ALLIANCE,
    ),
    (  # the EU's rearmament in a Japanese title (round 82)
        "EU、防衛力強化に最大8000億ユーロ",
        "欧州委員会は加盟国の防衛費を増やす再軍備計画を発表した。防衛力強化に最大8000億ユーロを動員する。",
        BUILDUP,
    ),
    (  # South Korea's president on the U.S. bases in Korea (round 85)
        "韓国大統領、トランプ氏と会談 在韓米軍基地の土地に言及",
        "李在明大統領はトランプ大統領と会談し、在韓米軍基地の土地の所有権に言及した。",
        ALLIANCE,
    ),
    (  # Japan's budget title, with a line on realignment costs (round 85)
        "Japan's fiscal 2026 budget tops 9 trillion yen for defense",
        "The budget includes costs for the realignment of U.S. forces in Japan, including Okinawa.",
        ALLIANCE,
    ),
    (  # the whole government budget, with defence one of its items (round 86)
        "24年度予算が成立 一般会計112.5兆円",
        "国会で2024年度予算が成立した。自民党は社会保障費や防衛費の増加を強調した。",
        BUILDUP,
    ),
    (  # the U.S. forces' Reapers (the shared set's dev item on their move to Kadena)
        "Air Force Reapers move to Kadena",
        "MQ-9 Reaper drones landed at Kadena after moving from the Maritime Self-Defense Force's Kanoya "
        "base, the Defense Ministry said.",
        BUILDUP,
    ),
    (  # the U.S. nuclear umbrella in one closing sentence (round 89)
        "Atomic bomb survivors' group wins Nobel Peace Prize",
        "The committee honoured the survivors of Hiroshima and Nagasaki for their testimony.\n"
        "Members urged the Japanese government to sign and ratify the treaty banning nuclear weapons, "
        "as they have for years, and to hear the survivors' testimony.\n"
        "Tokyo has declined, saying it relies on the U.S. nuclear umbrella.",
        ALLIANCE,
    ),
    (  # Japan's payment for the Marines' move to Guam (round 91)
        "First Okinawa Marines move to Guam",
        "About 100 Marines moved to the U.S. territory, Japan's Defense Ministry said. Tokyo has agreed to "
        "pay up to $2.8 billion toward the move.",
        BUILDUP,
    ),
    (  # U.S. Marines' launchers in a drill beside the GSDF's missiles (rounds 80, 84)
        "Marines bring anti-ship missile launcher to Ishigaki for drills",
        "The U.S. Marine Corps moved its launcher to Ishigaki for an exercise with the Ground "
        "Self-Defense Force, whose Type-12 anti-ship missile units trained alongside.",
        BUILDUP,
    ),
]


ROUNDS_97_TO_112_NEAR_MISSES: list[tuple[str, str, str]] = [
    (  # a football score is not the ministers' 2+2 (round 101)
        "Japan edge U.S. on penalties in Women's World Cup final",
        "Japan and the United States drew 2-2 after extra time before Japan won the shootout 3-1.",
        ALLIANCE,
    ),
    (  # another alliance's ministers and deterrence, with Japan never named (round 99)
        "Austin, Kim reaffirm deterrence at Security Consultative Meeting",
        "U.S. Defense Secretary Lloyd Austin and South Korean Defense Minister Kim Yong-hyun reaffirmed U.S. "
        "extended deterrence for South Korea at the Pentagon.",
        ALLIANCE,
    ),
    (  # command and control in one clause of a ministers' meeting, the leaders in another paragraph
        "防衛相、米国防長官と初会談　防衛費の前倒し説明",
        "小泉防衛相は来日したヘグセス米国防長官と会談し、防衛費の増額を前倒しする方針を説明した。\n"
        "両氏は装備品の共同生産や、在日米軍と自衛隊の指揮・統制の連携強化でも一致した。\n"
        "前日にはトランプ大統領と高市首相が会談した。",
        USFJ,
    ),
    (  # a summit with North Korea and the prime minister's welcome: "war" alone is not the forces (round 119)
        "Trump and Kim sign pledge in Singapore",
        "President Donald Trump met North Korean leader Kim Jong Un in Singapore and said he would stop the "
        "war games with South Korea.\nPrime Minister Shinzo Abe welcomed the summit and said Trump had "
        "raised the abductions with Kim.",
        ALLIANCE,
    ),
]

ROUNDS_129_TO_152_NEAR_MISSES: list[tuple[str, str, str]] = [
    (  # a U.S. Air Force squadron moving to a U.S. base to watch the islands is not Japan's deployment
        "U.S. drones relocate to Kadena",
        "MQ-9 aircraft of the 319th Expeditionary Reconnaissance Squadron moved from the MSDF's Kanoya base "
        "to Kadena, where their deployment will cover the Nansei islands.",
        BUILDUP,
    ),
    (  # a base's air show (round 131)
        "三沢基地で航空祭",
        "米空軍三沢基地で航空祭が開かれ、航空自衛隊と米空軍の展示飛行に約8万人が集まった。",
        ALLIANCE,
    ),
    (  # carmakers' joint development is business (round 130)
        "ホンダと米GM、燃料電池で提携拡大",
        "日米の自動車大手が次世代の燃料電池を共同開発する。",
        ALLIANCE,
    ),
    (  # a takeover's "security" agreement with Washington (round 134, both languages)
        "Nippon Steel closes U.S. Steel takeover",
        "The deal gives Washington a golden share; the two allies' leaders said it strengthened economic "
        "security.",
        ALLIANCE,
    ),
    (  # another country's joint headquarters (round 133)
        "NZ joint forces headquarters to lead Pacific deployments",
        "New Zealand's Headquarters Joint Forces will lead more deployments under its Defence Capability "
        "Plan, Defence Minister Judith Collins said.",
        BUILDUP,
    ),
    (  # a Japanese sailor's offence near a U.S. base town (round 129)
        "MSDF petty officer arrested after drunk-driving crash in Yokosuka",
        "Police arrested a Maritime Self-Defense Force petty officer after his car hit a pole.",
        ALLIANCE,
    ),
    (  # a civilian airport that shares a U.S. runway (round 129)
        "Iwakuni airport passengers top 500,000",
        "The civilian terminal at Marine Corps Air Station Iwakuni had a record year.",
        ALLIANCE,
    ),
    (  # the Coast Guard's own budget (round 135)
        "海保予算が過去最大に",
        "政府は安全保障関連3文書に基づき、海上保安庁の巡視船を増強する。",
        BUILDUP,
    ),
    (  # an engine maker's loss on airliner engines (round 134)
        "IHI swings to loss on engine inspections",
        "IHI booked charges for inspecting the geared turbofan engines it helps build for narrow-body jets.",
        BUILDUP,
    ),
    (  # talks on paying for U.S. forces that mention Japan's own spending (rounds 141, 143)
        "Tokyo and Washington open cost-sharing talks",
        "Japan's defense spending has risen, officials said, as talks on the next agreement began.",
        BUILDUP,
    ),
    (  # the GSDF called out against bears (round 139)
        "GSDF sent to Akita to help with bear attacks",
        "The defense minister ordered Ground Self-Defense Force troops to carry traps under the Self-Defense "
        "Forces Law.",
        BUILDUP,
    ),
    (  # an old bomb disposed of (round 139)
        "那覇で不発弾処理、住民避難",
        "陸上自衛隊が米国製の不発弾を処理し、周辺の住民避難が行われた。",
        BUILDUP,
    ),
    (  # a U.S. destroyer in the Taiwan Strait (round 137)
        "U.S. destroyer transits Taiwan Strait",
        "The Yokosuka-based destroyer USS Ralph Johnson sailed through the Taiwan Strait.",
        BUILDUP,
    ),
    (  # a U.S. Marine regiment reorganised (round 143)
        "沖縄の海兵連隊が改編",
        "陸上自衛隊も注目する中、米海兵隊の海兵連隊が海兵沿岸連隊に改編された。",
        BUILDUP,
    ),
    (  # a U.S. team at Yokota to work with the Joint Operations Command (round 144)
        "横田に日米調整チーム　統合作戦司令部と連携",
        "在日米軍司令部は統合作戦司令部と作戦をすり合わせるチームを横田基地内に置いた。",
        BUILDUP,
    ),
    (  # base-town shops and land investment (round 139)
        "Sasebo burger shops report record week",
        "Restaurants near the U.S. Navy base in Sasebo served more customers than ever.",
        ALLIANCE,
    ),
    (
        "「軍用地」投資の人気続く　利回り安定",
        "沖縄の米軍基地内の土地は利回りが安定し、嘉手納や普天間の軍用地の価格が上がっている。",
        ALLIANCE,
    ),
    (  # U.S. Marines rotating through Australia (round 142)
        "Marines arrive in Darwin for rotation",
        "About 2,000 Marines, some from Okinawa, arrived with MV-22 Ospreys.",
        ALLIANCE,
    ),
    (  # U.S. arms for Taiwan (round 142)
        "米上院で台湾政策公聴会",
        "議員らは米国による台湾への武器供与の遅れを批判した。",
        ALLIANCE,
    ),
    (  # a chipmaker's alliance (round 139)
        "Rapidus deepens alliance with IBM",
        "The U.S.-Japan chip alliance matters for economic security, the companies said.",
        ALLIANCE,
    ),
    (  # a notification system reviewed after a crime, not a command (round 138)
        "米兵事件、県に伝わらず　通報体制見直しへ",
        "在日米軍関係者の事件の通報体制を日米両政府が見直す。",
        USFJ,
    ),
    (  # a hospital on former base land, ten years after its return (round 140)
        "西普天間跡地に病院開院　返還から10年",
        "米軍のキャンプ瑞慶覧の一部だった宜野湾市の跡地に大学病院が開院した。",
        ALLIANCE,
    ),
    (  # defence shares in a market report (rounds 145, 151, 152)
        "Defence shares lead Tokyo rally",
        "Investors bet on higher military spending after the Liberal Democratic Party chose Takaichi.",
        BUILDUP,
    ),
    (
        "防衛関連株が急騰",
        "防衛費の増額期待から三菱重工業や川崎重工業の株が買われた。",
        BUILDUP,
    ),
    (  # civil servants' pay, the SDF's among it (rounds 136, 150)
        "国家公務員の月給引き上げ勧告",
        "人事院は自衛官を含む国家公務員の給与を引き上げるよう勧告した。",
        BUILDUP,
    ),
    (  # a patient flown from a southwestern island (round 149)
        "GSDF helicopter flies critically ill infant from Miyako",
        "A Ground Self-Defense Force unit flew the baby to Naha.",
        BUILDUP,
    ),
    (  # the Yokota headquarters' staff, the Joint Operations Command its partner (rounds 143, 149)
        "Yokota headquarters to add staff officers",
        "The commander said planners would work alongside the Self-Defense Forces' Joint Operations Command "
        "in Ichigaya later this decade, after a first phase focused on communications and many other tasks.",
        BUILDUP,
    ),
    (  # a photo exhibition of the occupation years (round 146)
        "米軍統治下の沖縄を写す写真展",
        "那覇市で、米軍統治下の沖縄の暮らしを写した写真展が開かれている。",
        ALLIANCE,
    ),
    (  # a hospital on returned base land (round 149)
        "University hospital opens on former U.S. housing land",
        "The hospital stands on land of Camp Foster returned to Japan in 2015.",
        ALLIANCE,
    ),
]


@pytest.mark.parametrize(
    ("title", "body", "unwanted"),
    ROUNDS_19_TO_22_NEAR_MISSES
    + ROUNDS_23_TO_26_NEAR_MISSES
    + ROUNDS_27_TO_30_NEAR_MISSES
    + ROUNDS_31_TO_34_NEAR_MISSES
    + ROUNDS_39_TO_44_NEAR_MISSES
    + ROUNDS_45_TO_48_NEAR_MISSES
    + ROUNDS_53_TO_56_NEAR_MISSES
    + ROUNDS_61_TO_67_NEAR_MISSES
    + ROUNDS_71_TO_73_NEAR_MISSES
    + ROUNDS_77_TO_92_NEAR_MISSES
    + ROUNDS_97_TO_112_NEAR_MISSES
    + ROUNDS_129_TO_152_NEAR_MISSES,
)
def test_near_misses_found_by_probe_rounds_19_to_152(
    shipped: Matcher, title: str, body: str, unwanted: str
) -> None:
    assert unwanted not in topics_of(shipped, title, body)
