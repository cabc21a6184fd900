"""Word forms a term stands for: British and American spellings, and simple plurals.

Both are expanded on the query side: a term written `defence` also looks for
`defense` (and the other way round), and a single unquoted word also looks for
its plural or singular. Expanding the query costs nothing per article; and an
over-generated form that is not an English word (`exercize`) simply never occurs.
Forms that would be a *different* English word are left out on purpose
(tyre/tire, cheque/check, storey/story, prise/prize).
"""

from __future__ import annotations

import re
from functools import lru_cache

# British -> American for whole words; their inflected forms are derived below.
_WORD_PAIRS = {
    "acknowledgement": "acknowledgment",
    "aeroplane": "airplane",
    "ageing": "aging",
    "aluminium": "aluminum",
    "amongst": "among",
    "anaemia": "anemia",
    "analogue": "analog",
    "artefact": "artifact",
    "catalogue": "catalog",
    "cosy": "cozy",
    "defence": "defense",
    "dialogue": "dialog",
    "encyclopaedia": "encyclopedia",
    "enrol": "enroll",
    "enrolment": "enrollment",
    "fulfil": "fulfill",
    "fulfilment": "fulfillment",
    "gaol": "jail",
    "grey": "gray",
    "haemorrhage": "hemorrhage",
    "instalment": "installment",
    "jewellery": "jewelry",
    "judgement": "judgment",
    "licence": "license",
    "mediaeval": "medieval",
    "mould": "mold",
    "moustache": "mustache",
    "offence": "offense",
    "oestrogen": "estrogen",
    "paediatric": "pediatric",
    "plough": "plow",
    "practise": "practice",
    "pretence": "pretense",
    "programme": "program",
    "pyjamas": "pajamas",
    "sceptic": "skeptic",
    "sceptical": "skeptical",
    "scepticism": "skepticism",
    "sulphur": "sulfur",
    "whilst": "while",
}
# -re / -er nouns: centre, centres, centred, centring <-> center, centers, centered, centering.
_RE_STEMS = (
    "calib",
    "cent",
    "fib",
    "lit",
    "lust",
    "manoeuv",
    "meag",
    "met",
    "sab",
    "sombr",
    "spect",
    "theat",
)
_RE_AMERICAN = {"manoeuv": "maneuv", "sombr": "somb"}
# -our words; every word starting with the stem changes with it (armoured -> armored).
_OUR_STEMS = (
    "ardour",
    "armour",
    "behaviour",
    "candour",
    "clamour",
    "colour",
    "endeavour",
    "favour",
    "flavour",
    "harbour",
    "honour",
    "humour",
    "labour",
    "neighbour",
    "odour",
    "parlour",
    "rancour",
    "rigour",
    "rumour",
    "saviour",
    "savour",
    "splendour",
    "tumour",
    "valour",
    "vapour",
    "vigour",
)
# Verbs whose final l doubles in British English before -ed/-ing/-er (travelled, traveled).
_DOUBLED_L_STEMS = (
    "cancel",
    "channel",
    "counsel",
    "dial",
    "duel",
    "equal",
    "fuel",
    "funnel",
    "label",
    "level",
    "libel",
    "marshal",
    "marvel",
    "model",
    "panel",
    "pedal",
    "quarrel",
    "refuel",
    "rival",
    "shovel",
    "signal",
    "spiral",
    "total",
    "travel",
    "tunnel",
    "unravel",
)
# -ise/-ize and -isation/-ization (the stem must be at least three letters: not rise, wise, prise).
_ISE = re.compile(r"^(?P<stem>\w{3,})i[sz](?P<end>e|es|ed|ing|er|ers|ation|ations|ational|ationally)$")
_YSE = re.compile(r"^(?P<stem>\w{3,})y[sz](?P<end>e|es|ed|ing|er|ers)$")
_ISE_PREFIX = re.compile(r"^(?P<stem>\w{3,})i[sz](?P<end>|e|a|at|ati|atio|ation|in|ed|er)$")


def _build_pairs() -> dict[str, str]:
    pairs: dict[str, str] = {}

    def pair(british: str, american: str) -> None:
        if british != american:
            pairs[british] = american
            pairs[american] = british

    for british, american in _WORD_PAIRS.items():
        pair(british, american)
        pair(british + "s", american + "s")
        if british.endswith("e") and american.endswith("e"):
            pair(british + "d", american + "d")
    for stem in _RE_STEMS:
        american = _RE_AMERICAN.get(stem, stem)
        pair(stem + "re", american + "er")
        pair(stem + "res", american + "ers")
        pair(stem + "red", american + "ered")
        pair(stem + "ring", american + "ering")
    for stem in _DOUBLED_L_STEMS:
        for ending in ("ed", "ing", "er", "ers"):
            pair(stem + "l" + ending, stem + ending)
    return pairs


_PAIRS = _build_pairs()
_OUR_TO_OR = {stem: stem[:-2] + "r" for stem in _OUR_STEMS}
_OR_TO_OUR = {american: british for british, american in _OUR_TO_OR.items()}


@lru_cache(maxsize=16384)
def spelling_variants(word: str) -> frozenset[str]:
    """`word` (folded, lower case) and its other-side spellings."""
    variants = {word}
    if word in _PAIRS:
        variants.add(_PAIRS[word])
    for british, american in _OUR_TO_OR.items():
        if word.startswith(british):
            variants.add(american + word[len(british) :])
    for american, british in _OR_TO_OUR.items():
        if word.startswith(american):
            variants.add(british + word[len(american) :])
    for pattern, letters in ((_ISE, "sz"), (_YSE, "sz")):
        found = pattern.match(word)
        if found:
            vowel = "i" if pattern is _ISE else "y"
            for letter in letters:
                variants.add(f"{found['stem']}{vowel}{letter}{found['end']}")
    return frozenset(variants)


@lru_cache(maxsize=16384)
def prefix_variants(prefix: str) -> frozenset[str]:
    """Other-side spellings of a prefix search (`reorganis*` also finds `reorganization`)."""
    variants = {prefix}
    found = _ISE_PREFIX.match(prefix)
    if found:
        for letter in "sz":
            variants.add(f"{found['stem']}i{letter}{found['end']}")
    for word, other in _PAIRS.items():
        if len(prefix) >= 4 and word.startswith(prefix):
            variants.add(other[: min(len(prefix), len(other))])
    for british, american in _OUR_TO_OR.items():
        if prefix.startswith(british):
            variants.add(american + prefix[len(british) :])
    for american, british in _OR_TO_OUR.items():
        if prefix.startswith(american):
            variants.add(british + prefix[len(american) :])
    return frozenset(variants)


# Words ending in s that are not plurals, and short words, keep their one form.
_NOT_PLURAL = frozenset(
    [
        "news",
        "series",
        "species",
        "means",
        "lens",
        "gas",
        "bias",
        "atlas",
        "chaos",
        "ethos",
        "pathos",
        "this",
        "thus",
        "has",
        "was",
        "is",
        "its",
        "yes",
        "as",
        "us",
        "always",
        "perhaps",
        "whereas",
        "across",
        "less",
        "unless",
        "politics",
        "physics",
        "economics",
        "mathematics",
        "logistics",
        "ethics",
        "tactics",
        "statistics",
        "diabetes",
        "measles",
        "mumps",
        "headquarters",
        "barracks",
        "crossroads",
        "whereabouts",
        "arms",
    ]
)


@lru_cache(maxsize=16384)
def number_forms(word: str) -> frozenset[str]:
    """`word` and its plural or singular: force/forces, ally/allies, alliance/alliances.

    Only for single unquoted words: a quoted phrase means exactly those words, so
    "U.S. Forces Japan" never turns into "U.S. Force Japan".
    """
    if len(word) < 3 or not word.isalpha() or word in _NOT_PLURAL:
        return frozenset({word})
    forms = {word}
    if word.endswith("ies") and len(word) > 4:
        forms.add(word[:-3] + "y")
    elif word.endswith(("sses", "shes", "ches", "xes", "zzes")):
        forms.add(word[:-2])
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        forms.add(word[:-1])
    elif word.endswith(("s", "x", "z", "ch", "sh")):
        forms.add(word + "es")
    elif word.endswith("y") and word[-2] not in "aeiou":
        forms.add(word[:-1] + "ies")
    else:
        forms.add(word + "s")
    return frozenset(forms)
