"""What `pip install .` ships: every package and data file the code imports or reads.

The suite runs from an editable install, which finds any module in the tree; a plain install
(the README's first command) gets only what pyproject.toml lists. A subpackage missing from that
list once broke every critique in a fresh install while all tests passed.
"""

from __future__ import annotations

import tomllib
from fnmatch import fnmatchcase
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
    "setuptools"
]
LISTED: set[str] = set(SETUPTOOLS["packages"])
PACKAGE_DIR: dict[str, str] = SETUPTOOLS.get("package-dir", {})


def folder_of(package: str) -> Path:
    return ROOT / PACKAGE_DIR.get(package, package.replace(".", "/"))


def test_every_package_in_the_tree_is_listed_and_every_listed_one_exists() -> None:
    in_tree = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "reviewq").rglob("__init__.py")
    }
    assert in_tree - LISTED == set(), "add these to [tool.setuptools] packages"
    for package in LISTED:
        assert (folder_of(package) / "__init__.py").is_file(), package


def _data_files(folder: Path) -> list[Path]:
    """Files other than Python in `folder` and its non-package subfolders."""
    out: list[Path] = []
    for path in folder.iterdir():
        if path.name == "__pycache__":
            continue
        if path.is_dir():
            if not (path / "__init__.py").exists():
                out += _data_files(path)
        elif path.suffix not in (".py", ".pyc"):
            out.append(path)
    return out


def test_every_data_file_is_shipped() -> None:
    data = SETUPTOOLS.get("package-data", {})
    missing = []
    for package in sorted(LISTED):
        folder = folder_of(package)
        for path in _data_files(folder):
            relative = path.relative_to(folder).as_posix()
            globs = data.get(package, [])
            if not any(
                fnmatchcase(relative, g) or fnmatchcase(relative, g.replace("**/", ""))
                for g in globs
            ):
                missing.append(f"{package}: {relative}")
    assert missing == [], "add these to [tool.setuptools.package-data]"
