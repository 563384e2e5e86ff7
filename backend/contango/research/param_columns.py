"""A sweep's parameter sets column by column: the dumps and texts of many validated models.

A sweep validates thousands of parameter sets that differ in a few fields. Their
``model_dump(mode="json")`` dicts, canonical texts (duplicate check, trial ids) and registry
texts are the same in every field no set varies, and repeat each swept value hundreds of
times; here each is dumped and written once per column and value instead of once per set,
where that is exact, which :func:`dump_columns` checks (else it gives up and the caller dumps
each model itself).
"""

from __future__ import annotations

import collections
import itertools
import math
import weakref
from collections.abc import Callable, Iterable, Sequence, Set
from operator import is_, itemgetter, setitem
from typing import Any

from pydantic import BaseModel

from contango.research.trials import canonical_item, file_item

_PLAIN = frozenset({int, float, str, bool, type(None)})  # JSON scalars: immutable, shareable


def dump_columns(
    params_model: type[BaseModel], models: Sequence[BaseModel], swept: Set[str]
) -> tuple[list[dict[str, Any]], list[str], list[str]] | None:
    """Per model, ``model_dump(mode="json")``, its :func:`canonical_json` text and its
    ``json.dumps`` text (the registry's), built column by column; ``None`` where that would
    not be exact, and the caller dumps each model itself.

    A plain model's dump is, field by field, what the field's validated value dumps to
    (:func:`_dumps_plainly`). A field outside ``swept`` is dumped and written once, after
    checking that every model holds a value that dumps alike (:func:`_alike`; a validator
    could have changed it); a swept field once per distinct value, told apart by type and
    the sign of a zero (1, 1.0 and True, or 0.0 and -0.0, are one dict key but dump
    differently).
    """
    if not models:
        return [], [], []
    if not _dumps_plainly(params_model) or set(map(type, models)) != {params_model}:
        return None
    first = models[0].model_dump(mode="json")
    names = list(first)
    if names != list(params_model.model_fields) or not _PLAIN.issuperset(map(type, first.values())):
        return None
    held = [m.__dict__ for m in models]
    fixed = [name for name in names if name not in swept]
    if fixed and not _alike(held, fixed):
        return None
    columns: dict[str, tuple[list[Any], dict[Any, Any]]] = {}
    for name in names:
        if name in swept:
            keys = _keys(list(map(itemgetter(name), held)))
            rows = dict(zip(reversed(keys), range(len(keys) - 1, -1, -1), strict=True))  # -> 1st
            dumps = {key: models[i].model_dump(mode="json")[name] for key, i in rows.items()}
            if not _PLAIN.issuperset(map(type, dumps.values())):
                return None  # a list or dict dumped: sharing it between sets would alias it
            columns[name] = (keys, dumps)
    values = list(map(dict.copy, itertools.repeat(first, len(models))))
    for name, (keys, dumps) in columns.items():
        dumped = map(dumps.__getitem__, keys)
        collections.deque(map(setitem, values, itertools.repeat(name), dumped), maxlen=0)
    n = len(models)
    canonical = _texts(sorted(names), first, columns=columns, item=canonical_item, sep=",", n=n)
    return values, canonical, _texts(names, first, columns=columns, item=file_item, sep=", ", n=n)


# model -> (its core schema, whether it dumps plainly): a template is looked at once, and
# again only if its schema was rebuilt since.
_PLAIN_MODELS: weakref.WeakKeyDictionary[type[BaseModel], tuple[Any, bool]] = (
    weakref.WeakKeyDictionary()
)


def _dumps_plainly(params_model: type[BaseModel]) -> bool:
    """Whether nothing in the model's core schema shapes its dump beyond each field's type:
    no serializer, computed field, serialisation alias or exclusion, extra fields."""
    schema = params_model.__pydantic_core_schema__
    known = _PLAIN_MODELS.get(params_model)
    if known is None or known[0] is not schema:
        known = (schema, _plain_schema(schema))
        _PLAIN_MODELS[params_model] = known
    return known[1]


def _plain_schema(schema: Any) -> bool:
    stack: list[Any] = [schema]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(key, str) and (
                    key.startswith("serialization")
                    or (key == "computed_fields" and value)
                    or (key in ("extra_behavior", "extra_fields_behavior") and value == "allow")
                ):
                    return False
                stack.append(value)
        elif isinstance(node, list | tuple):
            stack.extend(node)
    return True


def _alike(held: list[dict[str, Any]], names: list[str]) -> bool:
    """Whether every model holds, for each of ``names``, a value that dumps as the first
    model's: the very same object (all checked at once, the usual case) or else, column by
    column, an equal value of the same plain type (no float zero or NaN: their equality
    does not tell their texts apart)."""
    get = itemgetter(*names) if len(names) > 1 else lambda d: (d[names[0]],)
    flat = itertools.chain.from_iterable(map(get, held))
    if all(map(is_, flat, itertools.cycle(get(held[0])))):
        return True
    for name in names:
        column = [d[name] for d in held]
        kind, first = type(column[0]), column[0]
        if kind not in _PLAIN or (kind is float and (first == 0 or math.isnan(first))):
            return False
        if set(map(type, column)) != {kind} or column.count(first) != len(column):
            return False
    return True


def _keys(column: list[Any]) -> list[Any]:
    """A dict key per value that only values dumping alike share: the values themselves when
    no two of them are equal but of another type (or zeros of another sign, or NaN); else
    (type, value), or the row for NaN and types not known to dump by value alone."""
    kinds = set(map(type, column))
    floats = float in kinds and any(
        v == 0 or math.isnan(v) for v in set(column) if type(v) is float
    )
    if kinds <= _PLAIN and len(kinds & {int, float, bool}) <= 1 and not floats:
        return column
    keys: list[Any] = []
    for row, value in enumerate(column):
        kind = type(value)
        if kind is float and not math.isnan(value):
            keys.append((kind, value) if value else ("zero", math.copysign(1.0, value)))
        elif kind in _PLAIN and kind is not float:
            keys.append((kind, value))
        else:
            keys.append(("row", row))
    return keys


def _texts(
    order: list[str],
    first: dict[str, Any],
    *,
    columns: dict[str, tuple[list[Any], dict[Any, Any]]],
    item: Callable[[str, Any], str],
    sep: str,
    n: int,
) -> list[str]:
    """Per model, ``{`` + the ``item(name, value)`` of each name of ``order``, joined by
    ``sep``, + ``}``: the fixed items written once into the text between the swept ones,
    each swept item once per distinct value."""
    between = ["{"]  # the fixed text before, between and after the swept items
    swept: list[list[str]] = []
    for i, name in enumerate(order):
        between[-1] += sep if i else ""
        if name in columns:
            keys, dumps = columns[name]
            items = {key: item(name, value) for key, value in dumps.items()}
            swept.append(list(map(items.__getitem__, keys)))
            between.append("")
        else:
            between[-1] += item(name, first[name])
    between[-1] += "}"
    if not swept:
        return [between[0]] * n
    parts: list[Iterable[str]] = [itertools.repeat(between[0])]
    for column, after in zip(swept, between[1:], strict=True):
        parts += [column, itertools.repeat(after)]
    return list(map("".join, zip(*parts, strict=False)))  # to the end of the columns
