"""console/README.md names every module of the app, and the names and numbers it gives for a
module are that module's own."""

import importlib
import re
from pathlib import Path

import console

APP = Path(console.__file__).parent
README = (APP / "README.md").read_text()


def rows():
    """(module, text) for each table row that starts with one module's name."""
    for match in re.finditer(r"^\| `(\w+)\.py` \| (.*) \|$", README, flags=re.M):
        yield importlib.import_module(f"console.{match[1]}"), match[2]


# Django's own furniture, the same in every app.
BOILERPLATE = {"__init__.py", "apps.py", "migrations"}


def test_every_module_and_package_is_listed():
    names = {p.name for p in APP.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()}
    # `sweeps/` and `management/commands/sweep.py` both count for their folder.
    listed = {path.split("/")[0] for path in re.findall(r"`([\w/]+(?:\.py|/))`", README)}
    listed |= {name + ".py" for name in listed}
    assert names - BOILERPLATE - listed == set()


def test_history_and_search_are_described():
    described = {module.__name__ for module, _ in rows()}
    assert {"console.history", "console.search", "console.checklist"} <= described


def test_the_functions_and_numbers_named_are_the_modules_own():
    for module, text in rows():
        for name in re.findall(r"`(\w+)\(", text):
            assert callable(getattr(module, name, None)), f"{module.__name__}.{name}"
        for name, number in re.findall(r"`([A-Z_]+)` \((\d+)\)", text):
            assert getattr(module, name) == int(number), f"{module.__name__}.{name}"
