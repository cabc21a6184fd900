"""The watchlist query language: lexer, parser and syntax tree.

    @usfj AND (reorgani* OR "joint force headquarters" OR upgrade OR 統合軍司令部)
    title:(USFJ OR "U.S. Forces Japan") NEAR/10 headquarters
    =US AND Japan NOT baseball
    #usfj-reorganisation OR @bases      (#name: everything another topic matches)

Precedence, loosest first: OR, AND (also implied between neighbouring terms),
NEAR/n, NOT, field scope (`title:` / `body:`). Operators are written in capitals;
a lower-case `and`/`or`/`not` is refused rather than silently searched for.

Errors carry the 1-based column in the query, so config errors read
`topics.usfj.query: column 17: expected ')'`.

The `all`/`any`/`none` lists of matcher v1 compile to the same tree.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from pipeline.match.terms import TermError, TermSpec, parse_term

FIELDS = ("title", "body")
DEFAULT_NEAR = 10
_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\uff02": '"'})
_NEAR = re.compile(r"^NEAR(?:/(\d+))?$")
_ALIAS_NAME = re.compile(r"^[\w.-]+$")
_OPERATORS = {"AND", "OR", "NOT"}


class QueryError(ValueError):
    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"column {column}: {message}")
        self.message = message
        self.column = column


# --- syntax tree -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TermNode:
    label: str  # as written by the operator, shown in explanations
    spec: TermSpec
    source: str


@dataclass(frozen=True, slots=True)
class AliasNode:
    """`@name`: any of the alias's terms."""

    name: str
    members: tuple[TermNode, ...]
    source: str


@dataclass(frozen=True, slots=True)
class AndNode:
    children: tuple[Node, ...]
    source: str


@dataclass(frozen=True, slots=True)
class OrNode:
    children: tuple[Node, ...]
    source: str


@dataclass(frozen=True, slots=True)
class NotNode:
    child: Node
    source: str


@dataclass(frozen=True, slots=True)
class NearNode:
    """Both sides occur in the same field with at most `distance` words between them."""

    left: Node
    right: Node
    distance: int
    source: str


@dataclass(frozen=True, slots=True)
class FieldNode:
    field: str
    child: Node
    source: str


Node = TermNode | AliasNode | AndNode | OrNode | NotNode | NearNode | FieldNode


def iter_terms(node: Node) -> Iterator[TermNode]:
    if isinstance(node, TermNode):
        yield node
    elif isinstance(node, AliasNode):
        yield from node.members
    elif isinstance(node, AndNode | OrNode):
        for child in node.children:
            yield from iter_terms(child)
    elif isinstance(node, NotNode | FieldNode):
        yield from iter_terms(node.child)
    elif isinstance(node, NearNode):
        yield from iter_terms(node.left)
        yield from iter_terms(node.right)


# --- aliases -----------------------------------------------------------------------

Aliases = Mapping[str, tuple[TermNode, ...]]


@dataclass(frozen=True, slots=True)
class AliasProblem:
    key: str
    message: str


def parse_entry(entry: str, aliases: Aliases) -> TermNode | AliasNode:
    """One entry of an `all`/`any`/`none` list or of an alias: a word, phrase, prefix, `=Term` or `@alias`.

    Raises TermError (or KeyError for an unknown alias).
    """
    text = entry.strip()
    if text.startswith("@"):
        name = text[1:]
        if name not in aliases:
            raise KeyError(name)
        return AliasNode(name, aliases[name], text)
    case_sensitive = text.startswith("=")
    body = text[1:] if case_sensitive else text
    quoted = len(body) >= 2 and body[0] == body[-1] == '"'
    if quoted:
        body = body[1:-1]
    spec = parse_term(body, quoted=quoted, case_sensitive=case_sensitive)
    return TermNode(text, spec, text)


def resolve_aliases(
    raw: Mapping[str, Sequence[str]],
) -> tuple[dict[str, tuple[TermNode, ...]], list[AliasProblem]]:
    """Parse every alias once; `@other` inside an alias is replaced by other's terms."""
    resolved: dict[str, tuple[TermNode, ...]] = {}
    problems: list[AliasProblem] = []
    failed: set[str] = set()

    def resolve(name: str, stack: tuple[str, ...]) -> tuple[TermNode, ...]:
        if name in resolved:
            return resolved[name]
        members: list[TermNode] = []
        for index, entry in enumerate(raw[name]):
            key = f"aliases.{name}[{index}]"
            if not isinstance(entry, str):
                continue
            text = entry.strip()
            if text.startswith("@"):
                other = text[1:]
                if other not in raw:
                    problems.append(AliasProblem(key, f"unknown alias {text!r}"))
                elif other in stack or other == name:
                    problems.append(AliasProblem(key, f"{text!r} refers back to @{name}"))
                    failed.add(name)
                else:
                    members.extend(resolve(other, (*stack, name)))
                continue
            try:
                node = parse_entry(text, {})
            except TermError as error:
                problems.append(AliasProblem(key, str(error)))
                continue
            assert isinstance(node, TermNode)
            members.append(node)
        if not members and name not in failed:
            problems.append(AliasProblem(f"aliases.{name}", "an alias needs at least one term"))
        resolved[name] = tuple(members)
        return resolved[name]

    for name in raw:
        resolve(name, ())
    return resolved, problems


# --- lexer -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # term, alias, and, or, not, near, field, lparen, rparen, end
    text: str
    start: int  # 0-based offsets into the query
    end: int
    quoted: bool = False
    case_sensitive: bool = False
    distance: int = DEFAULT_NEAR


def _lex(query: str) -> list[_Token]:
    text = query.translate(_QUOTES)
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char.isspace():
            position += 1
        elif char in "()":
            tokens.append(_Token("lparen" if char == "(" else "rparen", char, position, position + 1))
            position += 1
        elif char == '"' or (char == "=" and text[position + 1 : position + 2] == '"'):
            opening = position + (1 if char == "=" else 0)
            closing = text.find('"', opening + 1)
            if closing < 0:
                raise QueryError("unterminated phrase: missing closing '\"'", opening + 1)
            if not text[opening + 1 : closing].strip():
                raise QueryError("empty phrase", opening + 1)
            tokens.append(
                _Token("term", text[opening + 1 : closing], position, closing + 1, True, char == "=")
            )
            position = closing + 1
        else:
            end = position
            while end < len(text) and not text[end].isspace() and text[end] not in '()"':
                end += 1
            position = _lex_word(text, position, end, tokens)
    tokens.append(_Token("end", "", len(text), len(text)))
    return tokens


def _lex_word(text: str, start: int, end: int, tokens: list[_Token]) -> int:
    """Lex the run `text[start:end]`; returns where lexing goes on (after a field prefix, inside the run)."""
    word = text[start:end]
    colon = word.find(":")
    if colon > 0 and word[:colon].isalpha():
        field = word[:colon].lower()
        if field == "site":
            # Web-search habit: refused rather than searched for as the text "site:...".
            raise QueryError(
                "site: is not supported: a query matches an article's title and body; "
                "to watch one site, add its feed",
                start + 1,
            )
        if field not in FIELDS:
            raise QueryError(f"unknown field {word[:colon]!r}; fields are {', '.join(FIELDS)}", start + 1)
        tokens.append(_Token("field", field, start, start + colon + 1))
        return start + colon + 1
    if word in _OPERATORS:
        tokens.append(_Token(word.lower(), word, start, end))
    elif word.startswith("NEAR") and (len(word) == 4 or word[4] == "/"):
        found = _NEAR.match(word)
        if not found:
            raise QueryError("NEAR takes a number of words, e.g. NEAR/10", start + 1)
        distance = int(found.group(1)) if found.group(1) else DEFAULT_NEAR
        tokens.append(_Token("near", word, start, end, distance=distance))
    elif word.lower() in ("and", "or", "not", "near") or word.lower().startswith("near/"):
        raise QueryError(
            f"operators are written in capitals: {word.upper().split('/')[0]}; "
            f'to search for the word, quote it ("{word}")',
            start + 1,
        )
    elif word.startswith("@"):
        if not _ALIAS_NAME.match(word[1:]):
            raise QueryError(f"{word!r} is not an alias name", start + 1)
        tokens.append(_Token("alias", word[1:], start, end))
    elif word.startswith("#"):
        if not _ALIAS_NAME.match(word[1:]):
            raise QueryError(f"{word!r} is not a topic name", start + 1)
        tokens.append(_Token("topic", word[1:], start, end))
    elif word[0] in "-+" and (len(word) > 1 or text[end : end + 1] in ('"', "(")):
        # Web-search habits: `-word` would otherwise be a term that REQUIRES the word, the opposite
        # of what was meant. Refused with the spelling that works instead of being reinterpreted.
        target = word[1:] or ('"..."' if text[end] == '"' else "(...)")
        hint = f"NOT {target}" if word[0] == "-" else f"{target} (every term is required unless ORed)"
        raise QueryError(f"{word[0]!r} before a word is not an operator; write {hint}", start + 1)
    elif word.startswith("="):
        if len(word) == 1:
            raise QueryError("'=' must be followed by the term to match case-sensitively", start + 1)
        tokens.append(_Token("term", word[1:], start, end, case_sensitive=True))
    else:
        tokens.append(_Token("term", word, start, end))
    return end


# --- parser ------------------------------------------------------------------------


# Resolves `#name` (another topic's whole tree) at the 1-based column where it is written.
TopicReference = Callable[[str, int], "Node"]


def _no_topics(name: str, column: int) -> Node:
    raise QueryError(f"unknown topic '#{name}' (topics can only be referred to in a config)", column)


class _Parser:
    def __init__(self, query: str, aliases: Aliases, topics: TopicReference = _no_topics) -> None:
        self.query = query
        self.aliases = aliases
        self.topics = topics
        self.tokens = _lex(query)
        self.index = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def source(self, start: int) -> str:
        return self.query[start : self.tokens[self.index - 1].end].strip()

    def fail(self, message: str, token: _Token | None = None) -> QueryError:
        return QueryError(message, (token or self.current).start + 1)

    def parse(self) -> Node:
        if self.current.kind == "end":
            raise QueryError("the query is empty", 1)
        node = self.parse_or()
        if self.current.kind == "rparen":
            raise self.fail("unexpected ')' with no matching '('")
        if self.current.kind != "end":
            raise self.fail(f"unexpected {self.current.text!r}")
        return node

    def parse_or(self) -> Node:
        start = self.current.start
        children = [self.parse_and()]
        while self.current.kind == "or":
            self.advance()
            children.append(self.parse_and("OR"))
        return children[0] if len(children) == 1 else OrNode(tuple(children), self.source(start))

    def parse_and(self, after: str | None = None) -> Node:
        start = self.current.start
        children = [self.parse_near(after)]
        while self.current.kind in ("and", "term", "alias", "topic", "lparen", "not", "field"):
            explicit = self.current.kind == "and"
            if explicit:
                self.advance()
            children.append(self.parse_near("AND" if explicit else None))
        return children[0] if len(children) == 1 else AndNode(tuple(children), self.source(start))

    def parse_near(self, after: str | None) -> Node:
        start = self.current.start
        node = self.parse_unary(after)
        while self.current.kind == "near":
            operator = self.advance()
            right = self.parse_unary(operator.text)
            for side in (node, right):
                if not _near_operand(side):
                    raise QueryError(
                        "NEAR works on terms, phrases, @aliases and OR-groups of them "
                        "(put AND and NOT outside it)",
                        operator.start + 1,
                    )
            node = NearNode(node, right, operator.distance, self.source(start))
        return node

    def parse_unary(self, after: str | None) -> Node:
        start = self.current.start
        if self.current.kind == "not":
            self.advance()
            child = self.parse_unary("NOT")
            return NotNode(child, self.source(start))
        return self.parse_primary(after)

    def parse_primary(self, after: str | None) -> Node:
        token = self.current
        start = token.start
        if token.kind == "field":
            self.advance()
            child = self.parse_primary(f"{token.text}:")
            if any(isinstance(node, FieldNode) for node in _walk(child)):
                raise QueryError("a field scope cannot contain another field scope", token.start + 1)
            return FieldNode(token.text, child, self.source(start))
        if token.kind == "lparen":
            self.advance()
            if self.current.kind == "rparen":
                raise self.fail("empty parentheses")
            node = self.parse_or()
            if self.current.kind != "rparen":
                raise self.fail("expected ')'")
            self.advance()
            return _with_source(node, self.source(start))
        if token.kind == "alias":
            self.advance()
            if token.text not in self.aliases:
                known = ", ".join(f"@{name}" for name in self.aliases) or "none defined"
                raise QueryError(f"unknown alias '@{token.text}' (known: {known})", token.start + 1)
            return AliasNode(token.text, self.aliases[token.text], self.source(start))
        if token.kind == "topic":
            self.advance()
            return self.topics(token.text, token.start + 1)
        if token.kind == "term":
            self.advance()
            try:
                spec = parse_term(token.text, quoted=token.quoted, case_sensitive=token.case_sensitive)
            except TermError as error:
                raise QueryError(str(error), token.start + 1 + error.offset) from None
            written = self.query[token.start : token.end]
            return TermNode(written, spec, written)
        if after:
            raise self.fail(f"expected a term after {after}")
        raise self.fail(f"expected a term, not {token.text or 'the end of the query'!r}")


def _walk(node: Node) -> Iterator[Node]:
    yield node
    if isinstance(node, AndNode | OrNode):
        for child in node.children:
            yield from _walk(child)
    elif isinstance(node, NotNode | FieldNode):
        yield from _walk(node.child)
    elif isinstance(node, NearNode):
        yield from _walk(node.left)
        yield from _walk(node.right)


def _with_source(node: Node, source: str) -> Node:
    """Keep the parentheses in the clause text shown in explanations."""
    if isinstance(node, AndNode | OrNode):
        return type(node)(node.children, source)
    return node


def _near_operand(node: Node) -> bool:
    if isinstance(node, TermNode | AliasNode | NearNode):
        return True
    if isinstance(node, FieldNode):  # title:USFJ NEAR/5 upgrade: USFJ in the title, upgrade near it there
        return _near_operand(node.child)
    if isinstance(node, OrNode):
        return all(_near_operand(child) for child in node.children)
    return False


def has_positive_term(node: Node) -> bool:
    """Can the node only be true when some term occurs? (A bare NOT cannot make a topic match.)"""
    if isinstance(node, TermNode | AliasNode | NearNode):
        return True
    if isinstance(node, AndNode):
        return any(has_positive_term(child) for child in node.children)
    if isinstance(node, OrNode):
        return all(has_positive_term(child) for child in node.children)
    if isinstance(node, FieldNode):
        return has_positive_term(node.child)
    return False


def parse_query(query: str, aliases: Aliases, topics: TopicReference = _no_topics) -> Node:
    node = _Parser(query, aliases, topics).parse()
    if not has_positive_term(node):
        raise QueryError(
            "the query must require at least one term outside NOT (and every OR branch needs one)", 1
        )
    return node


# --- topics ------------------------------------------------------------------------


class TopicError(ValueError):
    """A topic that cannot be compiled; `key` is the config key at fault (`query`, `all[2]`)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message


def _list_node(list_name: str, entries: Sequence[str], aliases: Aliases) -> list[Node]:
    nodes: list[Node] = []
    for index, entry in enumerate(entries):
        key = f"{list_name}[{index}]"
        if not isinstance(entry, str) or not entry.strip():
            raise TopicError(key, "empty term")
        try:
            nodes.append(parse_entry(entry, aliases))
        except KeyError:
            raise TopicError(key, f"unknown alias {entry.strip()!r}") from None
        except TermError as error:
            raise TopicError(key, str(error)) from None
    return nodes


def topic_tree(
    query: str | None,
    all_terms: Sequence[str],
    any_terms: Sequence[str],
    none_terms: Sequence[str],
    aliases: Aliases,
    topics: TopicReference = _no_topics,
) -> Node:
    """The one tree a topic compiles to: its query AND every `all` entry AND one of `any` AND NOT `none`."""
    parts: list[Node] = []
    if query is not None:
        try:
            parts.append(parse_query(query, aliases, topics))
        except QueryError as error:
            raise TopicError("query", str(error)) from None
    parts.extend(_list_node("all", all_terms, aliases))
    any_nodes = _list_node("any", any_terms, aliases)
    if any_nodes:
        parts.append(
            any_nodes[0]
            if len(any_nodes) == 1
            else OrNode(tuple(any_nodes), "(" + " OR ".join(_quoted(node) for node in any_nodes) + ")")
        )
    none_nodes = _list_node("none", none_terms, aliases)
    for node in none_nodes:
        parts.append(NotNode(node, f"NOT {_quoted(node)}"))
    if not parts or not any(has_positive_term(part) for part in parts):
        raise TopicError("query", "a topic needs a 'query' or terms in 'all' or 'any'")
    if len(parts) == 1:
        return parts[0]
    return AndNode(tuple(parts), " AND ".join(_parenthesised(part) for part in parts))


def _quoted(node: Node) -> str:
    if isinstance(node, TermNode) and len(node.spec.tokens) > 1 and not node.source.startswith(('"', "=")):
        return f'"{node.source}"'
    return node.source


def _parenthesised(node: Node) -> str:
    text = _quoted(node)
    if isinstance(node, OrNode) and not text.startswith("("):
        return f"({text})"
    return text


class TopicSource(Protocol):
    """What a topic is written as (pipeline.config.TopicConfig has it all)."""

    query: str | None
    all: list[str]
    any: list[str]
    none: list[str]


class TopicTrees:
    """Every topic's tree, with `#name` references to other topics resolved (and cycles refused)."""

    def __init__(self, sources: Mapping[str, TopicSource], aliases: Aliases) -> None:
        self.sources = sources
        self.aliases = aliases
        self._trees: dict[str, Node] = {}
        self._resolving: list[str] = []

    def tree(self, name: str) -> Node:
        """Raises TopicError (its key within this topic) when the topic does not compile."""
        if name in self._trees:
            return self._trees[name]
        self._resolving.append(name)
        try:
            source = self.sources[name]
            tree = topic_tree(
                source.query, source.all, source.any, source.none, self.aliases, self._reference
            )
        finally:
            self._resolving.pop()
        self._trees[name] = tree
        return tree

    def _reference(self, name: str, column: int) -> Node:
        if name not in self.sources:
            known = ", ".join(f"#{topic}" for topic in self.sources)
            raise QueryError(f"unknown topic '#{name}' (known: {known})", column)
        if name in self._resolving:
            raise QueryError(f"'#{name}' refers back to the topic being defined", column)
        try:
            return self.tree(name)
        except TopicError as error:
            raise QueryError(f"'#{name}' does not compile ({error})", column) from None
