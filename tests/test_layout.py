"""The packages depend one way, read from every module's imports (in functions and
TYPE_CHECKING blocks too): nlp/ and storage/ at the bottom, bot/core/ above them, handlers/
above bot/core/, the rest of bot/ on top. And no module keeps state in `global`s."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "nlp", "storage")

# importer -> (what it must not import, what it may import among those)
RULES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "nlp": (("bot", "handlers", "storage"), ()),
    "storage": (("bot", "handlers"), ()),
    "bot.core": (("bot", "handlers"), ("bot.core",)),
    "handlers": (("bot",), ("bot.core",)),
}


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _modules(*packages: str) -> Iterator[tuple[str, Path]]:
    for package in packages:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield ".".join(parts), path


def _is_module(name: str) -> bool:
    path = REPO.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports(module: str, path: Path) -> Iterator[tuple[int, str]]:
    """Every module `module` imports, with the line, wherever the import statement is."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the importing package, one level up per extra dot
                parts = package.split(".")
                anchor = parts[: len(parts) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                # `from bot.web import health` imports the module bot.web.health.
                submodule = f"{base}.{alias.name}"
                yield node.lineno, submodule if _is_module(submodule) else base


def forbidden_imports() -> list[str]:
    found: dict[str, None] = {}
    for module, path in _modules(*PACKAGES):
        for importer, (banned, allowed) in RULES.items():
            if not _within(module, importer):
                continue
            for line, target in imports(module, path):
                if any(_within(target, b) for b in banned) and not any(
                    _within(target, a) for a in allowed
                ):
                    where = path.relative_to(REPO)
                    found[f"{where}:{line}: {module} imports {target}"] = None
    return list(found)


def test_dependencies_run_one_way() -> None:
    found = forbidden_imports()
    assert not found, "imports against the layout (see README, Layout):\n" + "\n".join(found)


def test_the_import_reader_sees_imports_in_functions_type_checking_blocks_and_relative(
    tmp_path: Path,
) -> None:
    source = tmp_path / "sample.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from bot.web.keys import CONFIG\n"
        "def f():\n"
        "    import bot.cli.main\n"
        "    from bot.web import app\n"
        "    from . import texts\n"
    )
    assert [target for _, target in imports("handlers.sample", source)] == [
        "typing",
        "bot.web.keys",
        "bot.cli.main",
        "bot.web.app",
        "handlers.texts",
    ]


@pytest.mark.parametrize("package", ["bot", "handlers", "storage"])
def test_no_module_assigns_global_state_in_functions(package: str) -> None:
    found = [
        f"{path.relative_to(REPO)}:{node.lineno}: global {', '.join(node.names)}"
        for _, path in _modules(package)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Global)
    ]
    assert not found, "module-level state assigned in functions:\n" + "\n".join(found)
