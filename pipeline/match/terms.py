"""One search term (a word, a phrase, a prefix) compiled into a regex and pre-filter keys.

A term is normalised once into a `TermSpec`; equal specs (the same alias used by
fifty topics) compile to one shared `CompiledTerm`. The compiled term knows:

- `pattern`: a regex over folded article text that matches every way of writing
  the term: other-side spellings, plural/singular for single unquoted words,
  acronyms with or without dots, any dash or space between the words of a phrase;
- `keys`: the strings every match begins with, for the shared Aho-Corasick
  pre-filter. A match can only start where a key occurs, so the matcher runs
  `pattern.match` at those positions only, never over the whole text.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from pipeline.match.normalize import CJK_RANGES, SPACED_WORD_CHAR, WORD_CHAR, fold
from pipeline.match.spelling import number_forms, prefix_variants, spelling_variants

MIN_PREFIX_CHARS = 3
# What may stand between the words of a phrase: "U.S.-Japan", "2% of GDP", "AT&T", "2+2", and the
# quotation marks reporting puts round a word inside one (economic "2+2", 'so-called "counterstrike"
# capability').
_SEPARATOR = r"[\s\-/&+%\"']"
# ...except these signs, which a term keeps where it writes them, and what may stand for each in the text.
_REQUIRED_SIGNS = {",": r",\s*", "+": r"\s*\+\s*"}
# Word boundaries. A plain letter-or-digit class (not "letter but not CJK") keeps thousands of term
# regexes quick to compile; normalise() puts a space wherever CJK text touches a spaced-script word.
_BEFORE = rf"(?<!{WORD_CHAR})"
_AFTER = rf"(?!{WORD_CHAR})"
# Dotted acronyms: "U.S." or "U.S" (the final dot of "U.S." may also end the sentence).
_DOTTED = re.compile(r"(?:[^\W\d_]\.){2,}|[^\W\d_](?:\.[^\W\d_])+")
_CJK_RUN = rf"[{CJK_RANGES}]+"
_WORD = rf"{SPACED_WORD_CHAR}+(?:'{SPACED_WORD_CHAR}+)*"
_QUERY_TOKEN = re.compile(rf"(?P<dotted>{_DOTTED.pattern})|(?P<cjk>{_CJK_RUN})|(?P<word>{_WORD})")
_ACRONYM = re.compile(r"^[A-Z]{2,5}$")
_HAS_DIGIT = re.compile(r"\d")
# A first word (its forms are made of these) and the separators after it: where a phrase's second
# word must begin (see `CompiledTerm.second_word_starts`).
_FIRST_WORD = re.compile(rf"(?:{WORD_CHAR}|')+")
_PAST_FIRST_WORD = re.compile(rf"(?:{WORD_CHAR}|')*{_SEPARATOR}*")


class TermError(ValueError):
    """A term that cannot be searched for; `offset` is where in the term's text the problem is."""

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.offset = offset


@dataclass(frozen=True, slots=True)
class Token:
    text: str  # folded (lower case, NFKC)
    cjk: bool
    # Written as an acronym (US, U.S., USFJ): matches with or without dots between the letters.
    acronym: bool
    # No separator before it in the term as written ("USFJ再編", "F35"): none needed in the text either.
    joined: bool
    # A sign before it in the term as written that the text needs too (a key of `_REQUIRED_SIGNS`):
    # the comma of "Japanese, American", the plus of "2+2" (or a score's "2-2" reads as the talks).
    sign_before: str = ""


@dataclass(frozen=True, slots=True)
class TermSpec:
    """What a term means, independent of how it was written."""

    tokens: tuple[Token, ...]
    prefix: bool  # the last token is a prefix (written with a trailing '*')
    exact: bool  # quoted or several words: no plural/singular forms
    case_letters: str | None  # the letters as written, for a case-sensitive term (=US)

    @property
    def words(self) -> str:
        return " ".join(token.text for token in self.tokens) + ("*" if self.prefix else "")


# (A term's spec is a value: the config's check and the matcher's build parse the same thousands of
# alias entries and query terms, and a reload parses them again.)
@functools.lru_cache(maxsize=65_536)
def parse_term(text: str, *, quoted: bool = False, case_sensitive: bool = False) -> TermSpec:
    """Normalise a term as written in a query or a list (`U.S.-Japan`, `reorgani*`, `在日米軍`)."""
    stripped = text.strip()
    prefix = stripped.endswith("*")
    body = stripped.rstrip("*") if prefix else stripped
    star = body.find("*")
    if star >= 0:
        raise TermError("'*' is only allowed at the end of a word (prefix search)", text.find("*"))
    cased = fold(body, keep_case=True)
    tokens: list[Token] = []
    previous_end = None
    for found in _QUERY_TOKEN.finditer(cased):
        written = found.group()
        kind = found.lastgroup
        joined = previous_end is not None and found.start() == previous_end
        between = cased[previous_end : found.start()] if previous_end is not None else ""
        sign = next((sign for sign in _REQUIRED_SIGNS if sign in between), "")
        previous_end = found.end()
        if kind == "dotted":
            tokens.append(Token(written.replace(".", "").casefold(), False, True, joined, sign))
        elif kind == "cjk":
            tokens.append(Token(written.casefold(), True, False, joined, sign))
        else:
            tokens.append(Token(written.casefold(), False, bool(_ACRONYM.match(written)), joined, sign))
    if not tokens:
        raise TermError("empty term" if not body.strip() else f"nothing to search for in {text.strip()!r}")
    if prefix:
        last = tokens[-1]
        if last.cjk:
            raise TermError("'*' has no meaning after Japanese/Chinese/Korean text, which matches anywhere")
        if len(last.text) < MIN_PREFIX_CHARS:
            raise TermError(
                f"a prefix needs at least {MIN_PREFIX_CHARS} letters before '*'", len(stripped) - 1
            )
    letters = "".join(char for char in cased if char.isalpha()) if case_sensitive else None
    if case_sensitive and not letters:
        raise TermError("a case-sensitive term needs letters")
    exact = quoted or len(tokens) > 1
    return TermSpec(tuple(tokens), prefix, exact, letters)


def _token_forms(token: Token, *, inflect: bool, prefix: bool) -> list[str]:
    if token.cjk:
        return [token.text]
    if prefix:
        return sorted(prefix_variants(token.text), key=lambda form: (-len(form), form))
    forms: set[str] = set()
    for variant in spelling_variants(token.text):
        forms |= number_forms(variant) if inflect and not token.acronym else {variant}
    if _HAS_DIGIT.search(token.text):
        # A model number takes a plural s even inside a phrase: "105 more F-35s", "SM-3s", "MQ-9s".
        forms |= {form + "s" for form in forms}
    return sorted(forms, key=lambda form: (-len(form), form))


def _dotted(letters: str) -> str:
    return r"\.".join(re.escape(letter) for letter in letters) + rf"\.?(?!\.{WORD_CHAR})"


def _token_pattern(token: Token, forms: list[str], prefix: bool) -> str:
    alternatives = [re.escape(form) for form in forms]
    if token.acronym and not prefix:
        alternatives.append(_dotted(token.text))
    pattern = "(?:" + "|".join(alternatives) + ")"
    if prefix:
        pattern += f"{WORD_CHAR}*"
    return pattern


def _token_keys(token: Token, forms: list[str], prefix: bool) -> set[str]:
    keys = set(forms)
    if token.acronym and not prefix:
        keys.add(".".join(token.text))
    return keys


@functools.cache
def _regex(source: str) -> re.Pattern[str]:
    return re.compile(source)


@dataclass(frozen=True, slots=True)
class CompiledTerm:
    term_id: int
    spec: TermSpec
    # The regex's source: compiled on first use. A single plain word is found by the pre-filter
    # alone, so most terms of a large watchlist never need theirs (compiling them all was most of
    # `newswatch match`'s start-up).
    pattern_source: str
    keys: frozenset[str]
    # For a single plain word (no prefix, acronym or CJK), every form it can take: the pre-filter
    # can then find whole words itself and no regex needs to run.
    whole_words: frozenset[str] | None = None
    # For a phrase whose words are separated (`_SEPARATOR`, one at least): the characters its second
    # word can begin with. A match starting at a position has one of them at `second_word_at` of
    # it, so a key shared by many phrases ("the ...") need only try the phrases that fit there.
    second_word_starts: frozenset[str] | None = None

    @property
    def pattern(self) -> re.Pattern[str]:
        return _regex(self.pattern_source)

    @property
    def needs_left_boundary(self) -> bool:
        return not self.spec.tokens[0].cjk

    def case_agrees(self, original: str) -> bool:
        """For a case-sensitive term: do the letters of the hit have the case written in the query?

        Only the case is compared (the match itself already made the letters equal), so
        `=US` accepts "US" and "U.S." but not "us" or "Us".
        """
        wanted = self.spec.case_letters
        if wanted is None:
            return True
        if not original.isascii():
            original = fold(original, keep_case=True)
        found = "".join(filter(str.isalpha, original))[: len(wanted)]
        if len(found) < len(wanted):
            return False
        if wanted.isupper():
            return found.isupper()
        return all(want.isupper() == got.isupper() for want, got in zip(wanted, found, strict=True))


def compile_term(spec: TermSpec, term_id: int) -> CompiledTerm:
    inflect = not spec.exact
    parts: list[str] = []
    keys: set[str] = set()
    last = len(spec.tokens) - 1
    for index, token in enumerate(spec.tokens):
        prefix = spec.prefix and index == last
        forms = _token_forms(token, inflect=inflect, prefix=prefix)
        if index > 0:
            previous = spec.tokens[index - 1]
            optional = token.joined or token.cjk or previous.cjk
            if token.sign_before:
                parts.append(_REQUIRED_SIGNS[token.sign_before])
            else:
                parts.append(f"{_SEPARATOR}{'*' if optional else '+'}")
        parts.append(_token_pattern(token, forms, prefix))
        if index == 0:
            keys = _token_keys(token, forms, prefix)
    first, final = spec.tokens[0], spec.tokens[-1]
    pattern = ("" if first.cjk else _BEFORE) + "".join(parts) + ("" if final.cjk or spec.prefix else _AFTER)
    whole_words = None
    # (A case-sensitive word goes through its regex: every hit is checked against the original.)
    if len(spec.tokens) == 1 and not (spec.prefix or first.cjk or first.acronym or spec.case_letters):
        whole_words = frozenset(_token_forms(first, inflect=inflect, prefix=False))
    return CompiledTerm(
        term_id, spec, pattern, frozenset(_minimal_keys(keys)), whole_words, _second_word_starts(spec)
    )


def _second_word_starts(spec: TermSpec) -> frozenset[str] | None:
    """`CompiledTerm.second_word_starts`, or None where a match's second word need not follow the
    first word and a separator: one token, a dotted acronym or Japanese first (their forms hold
    other characters), a second word joined, Japanese, or after a comma or a plus sign."""
    if len(spec.tokens) < 2:
        return None
    first, second = spec.tokens[0], spec.tokens[1]
    if first.acronym or first.cjk or second.cjk or second.joined or second.sign_before:
        return None
    inflect = not spec.exact
    if not all(_FIRST_WORD.fullmatch(form) for form in _token_forms(first, inflect=inflect, prefix=False)):
        return None
    prefix = spec.prefix and len(spec.tokens) == 2
    starts = {form[0] for form in _token_forms(second, inflect=inflect, prefix=prefix) if form}
    if second.acronym and not prefix:
        starts.add(second.text[0])  # the dotted spelling (`_dotted`)
    return frozenset(starts)


def second_word_at(text: str, start: int) -> int:
    """Where the second word of a phrase matching at `start` begins: past the first word (a run of
    letters, digits and apostrophes, which each form of a first word is) and the separators."""
    return _PAST_FIRST_WORD.match(text, start).end()  # type: ignore[union-attr]  # (matches empty)


def token_literals(spec: TermSpec) -> tuple[frozenset[str], ...]:
    """For each token of the term, the folded strings of which one occurs inside every match.

    A token's regex is an alternation of its forms (plus the dotted spelling of an acronym, which
    contains `u.s`), with at most word characters after a prefix: so one of these strings is a
    substring of the text wherever the term matches. What presearch indexes a term by.
    """
    literals: list[frozenset[str]] = []
    last = len(spec.tokens) - 1
    for index, token in enumerate(spec.tokens):
        prefix = spec.prefix and index == last
        forms = _token_forms(token, inflect=not spec.exact, prefix=prefix)
        literals.append(frozenset(_minimal_keys(_token_keys(token, forms, prefix), contained=True)))
    return tuple(literals)


def token_starts_word(spec: TermSpec) -> tuple[bool, ...]:
    """For each token of the term: does every match have a word start where the token begins?

    The first word of a term needs a boundary before it (`_BEFORE`), and a later word one or more
    separators; a Japanese token, one written joined to the previous token or one after Japanese
    text may begin inside a run of letters.
    """
    starts: list[bool] = []
    for index, token in enumerate(spec.tokens):
        previous = spec.tokens[index - 1] if index else None
        starts.append(not token.cjk and (previous is None or not (token.joined or previous.cjk)))
    return tuple(starts)


def _minimal_keys(keys: set[str], contained: bool = False) -> list[str]:
    """Drop keys that begin with another key: the shorter one already marks every such position.
    With `contained`, also keys that merely contain another (enough where only presence counts)."""
    kept: list[str] = []
    for key in sorted(keys, key=len) if contained else sorted(keys):
        if not any(shorter in key if contained else key.startswith(shorter) for shorter in kept):
            kept.append(key)
    return kept
