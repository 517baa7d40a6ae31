"""What ships is what is tested: every third-party module the app imports at run time comes from a main dependency
in pyproject.toml (or from a requirement of one), never only from the development extras that the tests run with.

``bin/smoke-install`` checks the same thing the other way round, by running the app in a virtualenv made with
``pip install .`` alone.
"""

import ast
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from django.conf import settings
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO_ROOT = Path(__file__).resolve().parent.parent
#: The packages the Dockerfile copies into the image and the app runs from (bench/ and tests/ are not shipped).
APP_PACKAGES = ("assurance", "standards", "providers", "returns", "reviews")


def imported_top_level_names(source: str) -> set[str]:
    """The top-level names of the absolute imports in Python ``source``, wherever they stand (in functions too)."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name.partition(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.partition(".")[0])
    return names


def modules_named_in_settings() -> set[str]:
    """Modules the settings load by name: apps, middleware and authentication backends."""
    dotted = [*settings.INSTALLED_APPS, *settings.MIDDLEWARE, *settings.AUTHENTICATION_BACKENDS]
    dotted += [*settings.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"], settings.DATABASES["default"]["ENGINE"]]
    names = {name.partition(".")[0] for name in dotted}
    if "postgresql" in settings.DATABASES["default"]["ENGINE"]:
        names.add("psycopg2")
    return names


def third_party_distributions(names: set[str]) -> dict[str, set[str]]:
    """For each third-party distribution, the top-level names imported from it (standard library and the app's
    own packages left out). A name no installed distribution provides maps to itself, so that it is reported."""
    provided_by = metadata.packages_distributions()
    found: dict[str, set[str]] = {}
    for name in names - set(sys.stdlib_module_names) - set(APP_PACKAGES) - {"__future__"}:
        for distribution in provided_by.get(name, [name]):
            found.setdefault(canonicalize_name(distribution), set()).add(name)
    return found


def main_requirements() -> list[Requirement]:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(line) for line in project["dependencies"]]


def installed_with(requirements: list[Requirement]) -> set[str]:
    """The distributions ``pip install`` of ``requirements`` brings: each one and, transitively, what it requires
    (with the extras asked for), as the installed distributions declare it."""
    wanted = [(requirement, frozenset(requirement.extras)) for requirement in requirements]
    seen: set[tuple[str, frozenset]] = set()
    while wanted:
        requirement, extras = wanted.pop()
        name = canonicalize_name(requirement.name)
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        try:
            declared = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for line in declared:
            needed = Requirement(line)
            environments = [{"extra": extra} for extra in extras] or [{"extra": ""}]
            if needed.marker is None or any(needed.marker.evaluate(environment) for environment in environments):
                wanted.append((needed, frozenset(needed.extras)))
    return {name for name, _ in seen}


def app_modules() -> list[Path]:
    return sorted(path for package in APP_PACKAGES for path in (REPO_ROOT / package).rglob("*.py"))


def test_every_distribution_the_app_imports_is_installed_by_the_main_dependencies():
    names = modules_named_in_settings()
    for path in app_modules():
        names |= imported_top_level_names(path.read_text())
    shipped = installed_with(main_requirements())

    missing = {
        distribution: sorted(imported)
        for distribution, imported in third_party_distributions(names).items()
        if distribution not in shipped
    }

    assert not missing, (
        f"The app imports these, which `pip install .` does not install; add them to [project].dependencies "
        f"in pyproject.toml: {missing}"
    )


def test_the_check_sees_an_import_inside_a_function_and_finds_its_distribution():
    source = "from __future__ import annotations\nimport json\n\ndef f():\n    from pypdf import PdfReader\n"
    names = imported_top_level_names(source)

    assert names == {"__future__", "json", "pypdf"}
    assert third_party_distributions(names) == {"pypdf": {"pypdf"}}


@pytest.mark.parametrize(
    ("requirement", "brings"),
    [
        ("celery[redis]>=5", "redis"),  # through the extra asked for
        ("weasyprint", "pydyf"),  # a requirement of a requirement
    ],
)
def test_what_a_main_dependency_requires_counts_as_shipped(requirement, brings):
    assert brings in installed_with([Requirement(requirement)])


def test_a_development_extra_does_not_count_as_shipped():
    assert "pytest" not in installed_with(main_requirements())


def test_the_test_command_first_runs_the_app_as_pip_install_alone_installs_it():
    test_command = (REPO_ROOT / "bin" / "test").read_text()
    smoke = (REPO_ROOT / "bin" / "smoke-install").read_text()

    assert test_command.index("check bin/smoke-install") < test_command.index(".venv/bin/pytest --create-db")
    installs = [line for line in smoke.splitlines() if "-m pip install" in line]
    assert installs and all(line.rstrip().endswith(" .") for line in installs), installs
