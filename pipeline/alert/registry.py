"""Every channel type newswatch knows, keyed by the `type:` an operator writes in `channels:`.

A channel type is one module in pipeline/alert/ holding its config model (a ChannelConfigBase that
describes itself and names its secrets) and its Channel class, decorated with `@register("name",
ConfigModel)`. Adding one is that module plus its name in BUILT_IN below; nothing else changes:
config validation, `check-config`, the secrets redactor and the dispatcher all ask the registry.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from pipeline.alert.base import Channel
from pipeline.config import ChannelConfigBase

# The modules (in pipeline/alert/) that register a channel type, in the order error messages list them.
BUILT_IN = ("email", "webhook", "apprise", "console")


@dataclass(frozen=True)
class ChannelType:
    name: str
    config_model: type[ChannelConfigBase]
    channel_class: type[Channel]


_types: dict[str, ChannelType] = {}
ChannelClass = TypeVar("ChannelClass", bound=type[Channel])


def register(name: str, config_model: type[ChannelConfigBase]) -> Callable[[ChannelClass], ChannelClass]:
    """Class decorator: `type: name` in the config means this channel class with this config model."""

    def add(channel_class: ChannelClass) -> ChannelClass:
        _types[name] = ChannelType(name, config_model, channel_class)
        return channel_class

    return add


def channel_types() -> dict[str, ChannelType]:
    """Every registered type, the built-in modules imported first (so that they have registered)."""
    for module in BUILT_IN:
        importlib.import_module(f"pipeline.alert.{module}")
    # In BUILT_IN's order whatever order the modules happened to be imported in: error messages list them.
    rank = {name: index for index, name in enumerate(BUILT_IN)}
    return dict(sorted(_types.items(), key=lambda item: rank.get(item[0], len(rank))))


def build_channel(name: str, config: ChannelConfigBase) -> Channel:
    kind = channel_types().get(config.type)
    if kind is None:
        raise TypeError(f"no channel implementation for type {config.type!r}")
    return kind.channel_class(name, config)
