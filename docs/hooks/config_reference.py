"""MkDocs hook: the configuration reference, generated from the pydantic models in pipeline/config.py.

A page containing `<!-- config-reference -->` gets, in its place, one table per section of the
config file: every key with its type, default and description. Descriptions are the models'
docstrings and the `#` comments written directly above each field, so the reference is rebuilt
from the code on every `mkdocs build` and cannot drift from it.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Iterator
from types import NoneType, UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from pipeline.config import Config, parse_duration

MARKER = "<!-- config-reference -->"


def on_page_markdown(markdown: str, **_: Any) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, render_reference())


def render_reference() -> str:
    return "\n".join(_section_tables())


# --- walking the models ---------------------------------------------------------------------


def _members(annotation: Any) -> list[Any]:
    """The non-None members of a union, or the annotation itself."""
    if get_origin(annotation) in (Union, UnionType):
        return [member for member in get_args(annotation) if member is not NoneType]
    return [annotation]


def _strip(annotation: Any) -> tuple[Any, list[Any]]:
    """The type inside Annotated[...], and the Annotated metadata found on the way."""
    metadata: list[Any] = []
    while get_origin(annotation) is Annotated:
        metadata.extend(annotation.__metadata__)
        annotation = get_args(annotation)[0]
    return annotation, metadata


def _is_duration(metadata: list[Any]) -> bool:
    return any(getattr(item, "func", None) is parse_duration for item in metadata)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The section models a field contains (directly, in a list, a mapping or a union)."""
    annotation, _ = _strip(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for argument in get_args(annotation):
        if argument is not NoneType and not isinstance(argument, str | int):
            found.extend(_models_in(argument))
    return found


def _type_text(annotation: Any, metadata: list[Any]) -> str:
    annotation, inner = _strip(annotation)
    metadata = [*metadata, *inner]
    members = _members(annotation)
    optional = (
        len(members) < len(get_args(annotation)) if get_origin(annotation) in (Union, UnionType) else False
    )
    if len(members) > 1:
        text = " or ".join(_type_text(member, []) for member in members)
    else:
        text = _single_type_text(members[0], metadata)
    return f"{text} or null" if optional else text


def _single_type_text(annotation: Any, metadata: list[Any]) -> str:
    annotation, inner = _strip(annotation)
    metadata = [*metadata, *inner]
    if get_origin(annotation) in (Union, UnionType):
        return _type_text(annotation, metadata)
    if _is_duration(metadata):
        return "duration (30s, 10m, 2h, 1d)"
    origin = get_origin(annotation)
    if origin is Literal:
        return "one of " + ", ".join(f"`{value}`" for value in get_args(annotation))
    if origin is list:
        return f"list of {_type_text(get_args(annotation)[0], [])}"
    if origin is dict:
        return f"mapping of names to {_type_text(get_args(annotation)[1], [])}"
    if annotation is SecretStr:
        return "string (secret: never echoed)"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{_title(annotation)}](#{_anchor(annotation)})"
    return {str: "string", int: "integer", float: "number", bool: "true/false"}.get(
        annotation, getattr(annotation, "__name__", str(annotation))
    )


def _constraints(field: FieldInfo) -> str:
    words = {"gt": ">", "ge": "≥", "lt": "<", "le": "≤", "min_length": "length ≥", "max_length": "length ≤"}
    found = []
    for item in field.metadata:
        for name, word in words.items():
            value = getattr(item, name, None)
            if value is not None:
                found.append(f"{word} {value}")
    return ", ".join(found)


def _duration_text(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def _default_text(field: FieldInfo) -> str:
    if field.default_factory is not None:
        factory = field.default_factory
        if isinstance(factory, type) and issubclass(factory, BaseModel):
            return "(the section's defaults)"
        if factory in (list, dict):
            return "`[]`" if factory is list else "`{}`"
        return "depends on the machine (see description)"
    if field.default is PydanticUndefined:
        return "**required**"
    if field.default is None:
        return "not set"
    if _is_duration(field.metadata) and isinstance(field.default, int | float):
        return f"`{_duration_text(field.default)}`"
    if isinstance(field.default, bool):
        return f"`{str(field.default).lower()}`"
    return f"`{field.default}`"


def _field_comments(model: type[BaseModel]) -> dict[str, str]:
    """The `#` comment lines directly above each field in the class body (or a base class's)."""
    comments: dict[str, str] = {}
    for base in reversed(model.__mro__):
        if isinstance(base, type) and issubclass(base, BaseModel) and base.__module__ == Config.__module__:
            comments.update(_own_field_comments(base))
    return comments


def _own_field_comments(model: type[BaseModel]) -> dict[str, str]:
    source = textwrap.dedent(inspect.getsource(model))
    lines = source.splitlines()
    comments: dict[str, str] = {}
    tree = ast.parse(source)
    body = tree.body[0].body if isinstance(tree.body[0], ast.ClassDef) else []
    for statement in body:
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            above = []
            index = statement.lineno - 2
            while index >= 0 and lines[index].strip().startswith("#"):
                above.insert(0, lines[index].strip().lstrip("#").strip())
                index -= 1
            if above:
                comments[statement.target.id] = " ".join(above)
    return comments


def _title(model: type[BaseModel]) -> str:
    return model.__name__.removesuffix("Config")


def _anchor(model: type[BaseModel]) -> str:
    return model.__name__.lower()


def _doc(model: type[BaseModel]) -> str:
    # The model's own docstring only: an undocumented model would otherwise show BaseModel's.
    return " ".join((model.__dict__.get("__doc__") or "").split())


def _ordered_models() -> list[tuple[str, type[BaseModel]]]:
    """Every model reachable from Config, each once, with the key path where it first appears."""
    seen: dict[type[BaseModel], str] = {}
    pending: list[tuple[str, type[BaseModel]]] = [("(top level)", Config)]
    ordered: list[tuple[str, type[BaseModel]]] = []
    while pending:
        path, model = pending.pop(0)
        if model in seen:
            continue
        seen[model] = path
        ordered.append((path, model))
        for name, field in model.model_fields.items():
            key = field.alias or name
            prefix = "" if path == "(top level)" else f"{path}."
            suffix = ""
            annotation, _ = _strip(field.annotation)
            if get_origin(annotation) is list:
                suffix = "[]"
            elif get_origin(annotation) is dict:
                suffix = ".NAME"
            for child in _models_in(field.annotation):
                pending.append((f"{prefix}{key}{suffix}", child))
    return ordered


def _section_tables() -> Iterator[str]:
    for path, model in _ordered_models():
        # The heading names where the section is written in the file; the anchor, the model.
        heading = "Top level" if model is Config else f"`{path}`: {_title(model)}"
        yield f"### {heading} {{#{_anchor(model)}}}\n"
        if _doc(model) and model is not Config:
            yield _doc(model) + "\n"
        comments = _field_comments(model)
        yield "| key | type | default | description |"
        yield "|---|---|---|---|"
        for name, field in model.model_fields.items():
            description = field.description or comments.get(name, "")
            sections = _models_in(field.annotation)
            if not description and len(sections) == 1:
                # A section without a comment of its own: the first sentence of its model's docstring.
                description = _doc(sections[0]).split(". ")[0].rstrip(".")
            constraints = _constraints(field)
            if constraints:
                description = f"{description} ({constraints})" if description else constraints
            type_text = _type_text(field.annotation, list(field.metadata)).replace("|", "\\|")
            yield (
                f"| `{field.alias or name}` | {type_text} | {_default_text(field)} | "
                f"{description.replace('|', chr(92) + '|')} |"
            )
        yield ""
