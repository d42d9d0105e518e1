"""The tree's structure, checked by parsing it: who may import the stash modules, and the README's map.

Pytest-facing layer (the only modules that may import a module holding
``pytest.StashKey`` objects): plugin, fixtures, controller, session,
readiness_case, rule_items, readiness_wait, async_cases, case_warnings and
report/html_sections.  Everything else (gates/, load/, canary/, checks/,
net/, datasets/, reference/, the rest of report/, and the plain top-level
modules such as verdict, severity, limits, records) is logic that runs
without a pytest session and must not reach into one.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import pytest_prodready

PACKAGE = Path(pytest_prodready.__file__).parent
README = PACKAGE.parents[1] / "README.md"
PYTEST_FACING = {
    "plugin", "fixtures", "controller", "session", "readiness_case", "rule_items", "readiness_wait",
    "async_cases", "case_warnings", "report.html_sections",
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def stash_modules() -> set[str]:
    """Modules that define a ``pytest.StashKey``: the pytest-facing state."""
    return {module_name(path) for path in PACKAGE.rglob("*.py") if "StashKey[" in path.read_text()}


def imported_modules(path: Path) -> set[str]:
    """Every package module ``path`` imports (absolute or relative, at any depth of the file)."""
    own = module_name(path).split(".") if module_name(path) else []
    package = own if path.name == "__init__.py" else own[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                stem = ".".join(base + ([node.module] if node.module else []))
            elif (node.module or "").startswith("pytest_prodready"):
                stem = node.module.removeprefix("pytest_prodready").lstrip(".")
            else:
                continue
            found.add(stem)
            found.update(f"{stem}.{alias.name}".lstrip(".") for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name.removeprefix("pytest_prodready.") for a in node.names if a.name.startswith("pytest_prodready."))
    return found


def test_no_logic_module_imports_a_pytest_facing_stash_module():
    stash = stash_modules()
    assert stash <= PYTEST_FACING, f"a stash key outside the pytest-facing layer: {sorted(stash - PYTEST_FACING)}"
    offenders = {
        module_name(path): sorted(imported_modules(path) & stash)
        for path in PACKAGE.rglob("*.py")
        if module_name(path) not in PYTEST_FACING and imported_modules(path) & stash
    }
    assert offenders == {}


def architecture_lines() -> list[str]:
    """The lines of the README's architecture map (the code block under '## Architecture')."""
    text = README.read_text()
    section = text[text.index("## Architecture"):]
    block = section[section.index("```") + 3:]
    return block[: block.index("```")].splitlines()


def named_in_readme() -> dict[str, set[str]]:
    """Per package of src/pytest_prodready/ ('' for the top level), the names its lines of the map mention."""
    names: dict[str, set[str]] = {}
    package = None
    for line in architecture_lines():
        if line[:1] not in ("", " "):  # tests/, bench/, tools/ at the left edge: not the package
            package = None
            continue
        head = re.match(r"^  (\S+)", line)
        if head and not line.startswith("   "):
            first = head.group(1)
            package = first.rstrip("/") if first.endswith("/") else ""
        if package is None:
            continue
        names.setdefault(package, set()).update(re.findall(r"[\w/]+(?:\.py|\.sql|\.json)?", line))
    return names


def test_every_module_path_in_the_readme_map_exists():
    missing = []
    for package, names in named_in_readme().items():
        for name in names:
            if name.endswith((".py", ".sql", ".json")) and not list((PACKAGE / package).rglob(Path(name).name)):
                missing.append(f"{package}/{name}" if package else name)
    assert missing == []


def test_every_module_of_the_package_is_named_in_the_readme_map():
    names = named_in_readme()
    unnamed = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if path.name in ("__init__.py", "__main__.py") or relative.parts[0] == "suites":
            continue  # suites/ is described by what it holds (one file per category), not file by file
        package = relative.parts[0] if len(relative.parts) > 1 else ""
        said = names.get(package, set())
        if path.name not in said and path.stem not in said:
            unnamed.append(str(relative))
    assert unnamed == []


@pytest.mark.parametrize("package", ["gates", "load", "canary", "checks", "net", "report", "reference", "datasets"])
def test_each_package_of_the_map_is_a_package(package):
    assert (PACKAGE / package / "__init__.py").is_file()


def test_no_module_file_name_is_used_twice_in_the_package():
    """One name, one thing: ``checks/preflight.py`` beside ``preflight.py`` was two things under one name."""
    names: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name not in ("__init__.py", "__main__.py"):
            names.setdefault(path.name, []).append(str(path.relative_to(PACKAGE)))
    assert {name: paths for name, paths in names.items() if len(paths) > 1} == {}
