"""Command lines made from typed config dataclasses: one dataclass per job, help text per field."""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from collections.abc import Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def option(default: Any = dataclasses.MISSING, *, help: str) -> Any:
    """A config field with the help text its command-line option shows."""
    return dataclasses.field(default=default, metadata={"help": help})


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _plain_type(annotation: Any) -> type:
    """The type to parse a value with: `int` for `int`, `str` for `str | None`."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return next(a for a in typing.get_args(annotation) if a is not type(None))
    return annotation


def _leaf_fields(cls: type) -> list[tuple[dataclasses.Field, Any]]:
    """Fields of `cls`, with nested config dataclasses flattened into their own fields."""
    hints = typing.get_type_hints(cls)
    leaves = []
    for field in dataclasses.fields(cls):
        kind = hints[field.name]
        if dataclasses.is_dataclass(kind):
            leaves.extend(_leaf_fields(kind))
        else:
            leaves.append((field, kind))
    return leaves


def build_parser(cls: type, description: str | None) -> argparse.ArgumentParser:
    """An argparse parser with one option per field of the config dataclass `cls`."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    for field, annotation in _leaf_fields(cls):
        kind = _plain_type(annotation)
        required = field.default is dataclasses.MISSING
        help_text = field.metadata.get("help", "")
        if kind is bool:
            parser.add_argument(
                _flag(field.name),
                action=argparse.BooleanOptionalAction,
                default=field.default,
                help=f"{help_text} (default: {'on' if field.default else 'off'})",
            )
            continue
        if field.default not in (dataclasses.MISSING, None):
            help_text += " (default: %(default)s)"
        parser.add_argument(
            _flag(field.name),
            dest=field.name,
            type=kind,
            required=required,
            default=None if required else field.default,
            metavar=field.name.upper(),
            help=help_text,
        )
    return parser


def _build(cls: type[T], values: dict[str, Any]) -> T:
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for field in dataclasses.fields(cls):
        kind = hints[field.name]
        kwargs[field.name] = (
            _build(kind, values) if dataclasses.is_dataclass(kind) else values[field.name]
        )
    return cls(**kwargs)


def parse_config(cls: type[T], description: str | None, argv: Sequence[str] | None = None) -> T:
    """Parse a command line into the config dataclass `cls`; unknown options are errors."""
    namespace = build_parser(cls, description).parse_args(argv)
    return _build(cls, vars(namespace))
