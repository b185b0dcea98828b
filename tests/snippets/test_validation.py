"""The snippet modules validate their inputs the same way: one helper, ``_describe``, and one message format.

Each module stays copyable on its own, so the helper is written in each; this test keeps the copies identical and
checks that every ``ValueError`` a module raises names the argument(s) first ("name: expected ..., got ...").
"""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(p.stem for p in (ROOT / "snippets").glob("*.py") if p.name != "__init__.py")


@pytest.mark.parametrize("name", MODULES)
def test_every_module_has_the_same_describe_helper(name: str) -> None:
    module = importlib.import_module(f"snippets.{name}")
    reference = importlib.import_module("snippets.fm")
    assert inspect.getsource(module._describe) == inspect.getsource(reference._describe)
    assert module._describe(torch.zeros(2, 3, dtype=torch.int64)) == "(2, 3), dtype torch.int64"
    assert module._describe([1, 2]) == "list"


def _messages(path: Path) -> list[tuple[int, str]]:
    """The literal start of every ``raise ValueError(...)`` message in the module, with its line."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Raise)
            and isinstance(node.exc, ast.Call)
            and getattr(node.exc.func, "id", "") == ("ValueError")
        ):
            first = node.exc.args[0] if node.exc.args else None
            if isinstance(first, ast.JoinedStr):
                text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in first.values)
            elif isinstance(first, ast.Constant):
                text = str(first.value)
            else:
                continue  # a message built elsewhere is checked where it is built
            out.append((node.lineno, text))
    return out


@pytest.mark.parametrize("name", MODULES)
def test_every_error_message_names_the_argument_first(name: str) -> None:
    path = ROOT / "snippets" / f"{name}.py"
    messages = _messages(path)
    assert messages, f"{name} raises no ValueError"
    bad = [f"{path.name}:{line}: {text!r}" for line, text in messages if not _names_argument(text)]
    assert bad == [], "messages should read 'argument: expected ..., got ...':\n" + "\n".join(bad)


def _names_argument(text: str) -> bool:
    """'x: ...' or, for a rule that ties arguments together, 'p0, p1: ...'."""
    head, sep, rest = text.partition(": ")
    return bool(sep) and bool(rest) and all(name and " " not in name for name in head.split(", "))
