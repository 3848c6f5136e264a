"""Services never import forms or views: read from the source with `ast`, following every import
(also those inside functions) through the project's own modules, nothing imported to find out."""

import ast
import pathlib
from collections.abc import Iterator

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PROJECT = {path.parent.name for path in ROOT.glob("*/__init__.py")} - {"tests"}
REQUEST_SIDE = {"forms", "views", "api", "admin", "urls"}
# A module of pages holding form classes is a forms module, whatever its name.
ALSO_FORMS = {"screening.steps"}


def source(module: str) -> pathlib.Path | None:
    base = ROOT.joinpath(*module.split("."))
    return next((path for path in (base.with_suffix(".py"), base / "__init__.py") if path.is_file()), None)


def imported_by(module: str) -> Iterator[str]:
    path = source(module)
    assert path is not None, module
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            parts = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            base = ".".join([*parts, *([node.module] if node.module else [])])
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)  # `from screening import forms`


def reachable(start: str) -> dict[str, str]:
    """Every project module `start` imports, directly or not, each with the module importing it."""
    found: dict[str, str] = {}
    todo = [start]
    while todo:
        module = todo.pop()
        for name in imported_by(module):
            if name.partition(".")[0] in PROJECT and name not in found and name != start and source(name):
                found[name] = module
                todo.append(name)
    return found


def request_side(modules: dict[str, str]) -> list[str]:
    def chain(name: str) -> str:
        links = [name]
        while links[-1] in modules:
            links.append(modules[links[-1]])
        return " <- ".join(links)

    return sorted(chain(name) for name in modules if name.rpartition(".")[2] in REQUEST_SIDE or name in ALSO_FORMS)


@pytest.mark.parametrize("services", ["screening.services", "booking.services"])
def test_services_import_no_forms_or_views(services):
    assert source(services) is not None
    assert request_side(reachable(services)) == []


def test_the_pure_modules_import_nothing_of_the_project_but_each_other():
    assert set(reachable("telemed.people")) == set()
    assert set(reachable("screening.step_rules")) == set()


def test_the_check_finds_a_forms_import_when_there_is_one():
    assert "screening.forms <- screening.steps" in request_side(reachable("screening.steps"))
    assert any(chain.startswith("screening.steps <-") for chain in request_side(reachable("screening.views")))
    assert "telemed.people" in reachable("screening.services")
