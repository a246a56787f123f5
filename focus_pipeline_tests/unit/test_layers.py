"""Imports point down only: cli -> defs -> settings -> lib; the emulator uses lib alone."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "focus_pipeline"


def imports(path: Path) -> set[str]:
    """Every module a file imports, at any depth (lazy imports inside functions included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def offending(folder: Path, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in files(folder)
        for module in sorted(imports(path))
        if module.startswith(forbidden)
    ]


def test_lib_imports_neither_dagster_nor_settings_nor_defs_nor_cli() -> None:
    forbidden = (
        "dagster",
        "focus_pipeline.settings",
        "focus_pipeline.defs",
        "focus_pipeline.cli",
        "focus_pipeline.definitions",
    )
    assert offending(PACKAGE / "lib", forbidden) == []


def test_settings_imports_only_lib() -> None:
    forbidden = ("dagster", "focus_pipeline.defs", "focus_pipeline.cli")
    found = [m for m in imports(PACKAGE / "settings.py") if m.startswith(forbidden)]
    assert found == []


def test_defs_never_import_the_command_line() -> None:
    assert offending(PACKAGE / "defs", ("focus_pipeline.cli",)) == []


def test_no_private_dagster_module_is_imported() -> None:
    assert offending(PACKAGE, ("dagster._", "dagster_aws._", "dagster_postgres._")) == []


def test_the_emulator_uses_lib_at_most() -> None:
    emulator = ROOT / "oci_emulator"
    if not emulator.is_dir():
        pytest.skip("oci_emulator/ is not in this tree")
    forbidden = (
        "dagster",
        "focus_pipeline.settings",
        "focus_pipeline.defs",
        "focus_pipeline.cli",
        "focus_pipeline.definitions",
    )
    assert offending(emulator, forbidden) == []


def test_lib_loads_without_dagster_at_run_time() -> None:
    modules = ", ".join(
        f"focus_pipeline.lib.{p.stem}" for p in files(PACKAGE / "lib") if p.stem != "__init__"
    )
    code = f"import sys, {modules}; assert 'dagster' not in sys.modules, 'dagster imported'"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
