"""Command lines made from typed config dataclasses: one dataclass per job, help text per field.

Values are checked when a config is built (its `__post_init__` calls `check_options`), so a bad
option stops a job with a one-line usage error before Spark or a model starts; what goes wrong
later because of the user's input (a missing folder, a clashing output) raises `UsageError`,
which jobs print as one line too (`user_errors`).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import types
import typing
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from dataprep.units import parse_size

T = TypeVar("T")


class UsageError(Exception):
    """What the user asked for cannot be done: a missing input, a clashing output."""


class MissingInput(UsageError, FileNotFoundError):
    """An input the user named does not exist or holds nothing to read."""


def option(
    default: Any = dataclasses.MISSING,
    *,
    help: str,
    choices: Sequence[str] | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
    size: bool = False,
    recorded: bool = True,
) -> Any:
    """A config field with its option's help text and, optionally, its allowed values.

    `minimum` and `maximum` are inclusive, `above` is not (a rate must be above 0). A `size`
    option is a string such as "64MB"; its bounds are in bytes. An option that is not
    `recorded` changes how a stage works, not what it writes (see recorded_settings).
    """
    metadata = {
        "help": help,
        "choices": choices,
        "minimum": minimum,
        "maximum": maximum,
        "above": above,
        "size": size,
        "recorded": recorded,
    }
    return dataclasses.field(default=default, metadata=metadata)


def recorded_settings(config: Any) -> dict[str, Any]:
    """`config` as a stage record keeps it: every field but the options not `recorded`, so
    that a rerun with another value of those reuses the stage's output."""
    settings = dataclasses.asdict(config)
    for field in dataclasses.fields(config):
        if not field.metadata.get("recorded", True):
            del settings[field.name]
    return settings


def check_options(config: Any) -> None:
    """Raise ValueError, naming the option, for a field of `config` outside its allowed values."""
    for field in dataclasses.fields(config):
        value, rules, flag = getattr(config, field.name), field.metadata, _flag(field.name)
        if value is None or not rules:
            continue
        if rules["choices"] is not None and value not in rules["choices"]:
            raise ValueError(f"{flag} must be one of {', '.join(rules['choices'])}, not {value!r}")
        if isinstance(value, float) and math.isnan(value):
            raise ValueError(f"{flag} must be a number, not nan")  # nan passes every comparison
        unit = ""
        if rules["size"]:
            unit = " bytes"
            try:
                value = parse_size(value) if isinstance(value, str) else value
            except ValueError as error:
                raise ValueError(f"{flag}: {error}") from None
        if rules["minimum"] is not None and value < rules["minimum"]:
            raise ValueError(f"{flag} must be at least {rules['minimum']:,}{unit}, not {value:,}")
        if rules["maximum"] is not None and value > rules["maximum"]:
            raise ValueError(f"{flag} must be at most {rules['maximum']:,}{unit}, not {value:,}")
        if rules["above"] is not None and not value > rules["above"]:
            raise ValueError(f"{flag} must be above {rules['above']:,}{unit}, not {value:,}")


@contextmanager
def user_errors(prog: str) -> Iterator[None]:
    """Report a UsageError as one line on stderr and exit with status 2, as argparse does."""
    try:
        yield
    except UsageError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        raise SystemExit(2) from None


def refuse_to_write_over(output: str | Path, overwrite: bool) -> None:
    """Raise UsageError if the folder `output` already holds files and `overwrite` is off."""
    folder = Path(output)
    if not overwrite and folder.is_dir() and any(folder.iterdir()):
        raise UsageError(
            f"{output} already holds files: --overwrite writes over them, or choose another "
            "--output"
        )


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


def _size_argument(text: str) -> int:
    """Bytes in a size on the command line; argparse shows a bad one's error as it is."""
    try:
        return parse_size(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


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
        if kind is int and field.metadata.get("size"):
            kind = _size_argument  # a number of bytes, given as a size: 1MiB, 500kB, 1048576
        parser.add_argument(
            _flag(field.name),
            dest=field.name,
            type=kind,
            choices=field.metadata.get("choices"),
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
    """Parse a command line into the config dataclass `cls`; unknown or bad options are errors."""
    parser = build_parser(cls, description)
    namespace = parser.parse_args(argv)
    try:
        return _build(cls, vars(namespace))
    except (ValueError, UsageError) as error:
        parser.error(str(error))
