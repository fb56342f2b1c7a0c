"""The site files' YAML, written by hand so that the same data always gives the same bytes.

Mappings and lists of mappings are block style; everything smaller is one flow item a line.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

_PLAIN = re.compile(r"[A-Za-z\u4e00-\u9fff]([\w\u4e00-\u9fff .'/-]*[\w\u4e00-\u9fff.])?", re.ASCII)
_YAML_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}
FLOW_ITEMS = {"buildings", "roster", "floor_lines"}  # lists written one flow item a line


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        text = repr(value)
        return text if "e" not in text else f"{value:.9f}"
    if _PLAIN.fullmatch(value) and value.lower() not in _YAML_WORDS:
        return value
    return json.dumps(value, ensure_ascii=False)


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_scalar(k)}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return _scalar(value)


def yaml_lines(mapping: dict[str, Any], indent: int = 0) -> list[str]:
    """Block YAML for mappings and lists of mappings; everything smaller in flow style."""
    pad, lines = " " * indent, []
    for key, value in mapping.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            lines.append(f"{pad}{key}:")
            for item in value:
                if key in FLOW_ITEMS:
                    lines.append(f"{pad}  - {_flow(item)}")
                else:
                    inner = yaml_lines(item, indent + 4)
                    lines += [f"{pad}  - {inner[0].lstrip()}", *inner[1:]]
        elif isinstance(value, dict) and value:
            lines += [f"{pad}{key}:", *yaml_lines(value, indent + 2)]
        else:
            lines.append(f"{pad}{key}: {_flow(value)}")
    return lines


def write_file(path: Path, header: list[str], body: list[str]) -> None:
    """Header comment lines, then the body; UTF-8 with LF line ends on every platform."""
    path.write_text("\n".join([*header, *body]) + "\n", encoding="utf-8", newline="\n")
