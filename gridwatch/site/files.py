"""The site folder's files: their names, reading them, YAML that knows its line numbers.

Every problem becomes a line of a SiteError naming the file, the line (YAML) or the feature
index (GeoJSON), the item's id and what is wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

SITE_FILE, GRIDS_FILE = "site.yaml", "grids.geojson"
BUILDINGS_FILE, DEVICES_FILE, PEOPLE_FILE = "buildings.yaml", "devices.yaml", "people.yaml"
MAX_REPORTED_PROBLEMS = 20


class SiteError(ValueError):
    """A site folder that cannot be used, with every problem found (file, line, id, reason)."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        shown = self.problems[:MAX_REPORTED_PROBLEMS]
        if len(shown) == 1:
            message = shown[0]
        else:
            message = f"{len(self.problems)} problems in the site folder:\n  " + "\n  ".join(shown)
            if len(self.problems) > len(shown):
                message += f"\n  ... and {len(self.problems) - len(shown)} more"
        super().__init__(message)


class _YamlLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The safe loader, remembering how it resolved each plain scalar (ids, keys repeat)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._tags: dict[tuple[str, Any], str] = {}

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is not yaml.ScalarNode:
            return super().resolve(kind, value, implicit)
        tag = self._tags.get((value, implicit))
        if tag is None:
            tag = self._tags[(value, implicit)] = super().resolve(kind, value, implicit)
        return tag


# The list keys whose items are named in messages ("devices.yaml line 9 (device 'fl-1')").
_ITEM_NAMES = {
    "streets": "street",
    "communities": "community",
    "buildings": "building",
    "devices": "device",
    "departments": "department",
    "people": "person",
}


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SiteError([f"{path.name}: missing from the site folder {path.parent}"]) from None
    except UnicodeDecodeError as err:
        raise SiteError(
            [f"{path.name}: not UTF-8 text ({err.reason} at byte {err.start})"]
        ) from None


class YamlDoc:
    """A parsed YAML file that can tell on which line any part of it starts."""

    def __init__(self, path: Path) -> None:
        self.name = path.name
        loader = _YamlLoader(read_text(path))
        try:
            self.root = loader.get_single_node()
            self.data = loader.construct_document(self.root) if self.root is not None else None
        except yaml.MarkedYAMLError as err:
            mark = err.problem_mark or err.context_mark
            where = f" line {mark.line + 1} column {mark.column + 1}" if mark else ""
            reason = err.problem or err.context
            raise SiteError([f"{self.name}{where}: not valid YAML: {reason}"]) from None
        except yaml.YAMLError as err:
            raise SiteError([f"{self.name}: not valid YAML: {err}"]) from None
        finally:
            loader.dispose()
        repeated = _repeated_keys(self.root)
        if repeated:
            raise SiteError(
                [
                    f"{self.name} line {line}: key {key!r} appears twice in one mapping "
                    "(YAML would silently keep only the last)"
                    for line, key in repeated
                ]
            )

    def _locate(self, loc: Sequence[str | int]) -> tuple[str, str]:
        """("file line N (item 'id')", "field.path") for the part of the document at `loc`."""
        node, data = self.root, self.data
        label, field, parent_key = "", "", None
        for key in loc:
            child = None
            if isinstance(node, yaml.MappingNode) and isinstance(data, dict) and key in data:
                child = next(v for k, v in node.value if k.value == key), data[key]
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(data):
                child = node.value[key], data[key]
            if child is not None:
                node, data = child
            elif isinstance(data, dict) and key == data.get("kind"):
                continue  # the tag pydantic puts in the path of a device's errors
            if isinstance(key, int) and parent_key in _ITEM_NAMES and child is not None:
                item_id = data.get("id") if isinstance(data, dict) else None
                named = repr(item_id) if isinstance(item_id, str) else f"at index {key}"
                label, field = f" ({_ITEM_NAMES[parent_key]} {named})", ""
            else:
                field += f"[{key}]" if isinstance(key, int) else f".{key}" if field else key
            parent_key = key
        line = node.start_mark.line + 1 if node is not None else 1
        return f"{self.name} line {line}{label}", field

    def place(self, loc: Sequence[str | int]) -> str:
        return self._locate(loc)[0]

    def problem(self, loc: Sequence[str | int], reason: str, sep: str = ": ") -> str:
        """A message naming the file, the line, the item's id, the field and the reason."""
        where, field = self._locate(loc)
        return f"{where}: {field}{sep}{reason}" if field else f"{where}: {reason}"


def _repeated_keys(root: yaml.Node | None) -> list[tuple[int, str]]:
    """(line, key) of every mapping key written a second time: a copy-and-paste slip."""
    found, stack = [], [root] if root is not None else []
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            keys: set[Any] = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in keys:
                        found.append((key.start_mark.line + 1, key.value))
                    keys.add(key.value)
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return sorted(found)
