"""The package as pip users get it: a wheel built from a copy of what the Dockerfile copies, installed
into fresh virtualenvs away from the checkout, with no network: a dependency comes from this test
environment, either copied in (with exactly the closure the wheel declares) or seen through a .pth."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from importlib.metadata import Distribution, distribution
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def build_wheel(folder: Path) -> Path:
    source = folder / "source"
    shutil.copytree(ROOT / "backend", source / "backend", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    command = [sys.executable, "-m", "pip", "wheel", "-q", str(source), "--no-deps", "--no-build-isolation"]
    subprocess.run([*command, "-w", str(folder)], check=True, capture_output=True)
    (built,) = folder.glob("trainscope-*.whl")
    return built


def declared(wheel: Path, extra: str = "") -> list[Requirement]:
    """The wheel's own Requires-Dist for an install with `extra` ("" for the plain one)."""
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = archive.read(name).decode()
    wanted = [
        Requirement(line.split(":", 1)[1].strip())
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:")
    ]
    return [r for r in wanted if r.marker is None or r.marker.evaluate({"extra": extra})]


def closure(requirements: list[Requirement]) -> dict[str, Distribution]:
    """Every distribution these requirements pull in, transitively, as installed here."""
    found: dict[str, Distribution] = {}
    done: set[tuple[str, frozenset[str]]] = set()
    todo = [(r, frozenset(r.extras)) for r in requirements]
    while todo:
        requirement, extras = todo.pop()
        name = canonicalize_name(requirement.name)
        if (name, extras) in done:
            continue
        done.add((name, extras))
        dist = found.setdefault(name, distribution(requirement.name))
        for text in dist.requires or []:
            needed = Requirement(text)
            if needed.marker is None or any(needed.marker.evaluate({"extra": e}) for e in ("", *extras)):
                todo.append((needed, frozenset(needed.extras)))
    return found


def fresh_venv(folder: Path, wheel: Path) -> tuple[Path, Path]:
    """A virtualenv without pip holding only the wheel: (its python, its site-packages)."""
    venv.EnvBuilder(with_pip=False, symlinks=True).create(folder)
    python = folder / "bin" / "python"
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-compile"]
    subprocess.run([*install, str(wheel)], check=True, capture_output=True)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(folder), "platbase": str(folder)}))
    return python, site


def copy_in(dists: dict[str, Distribution], site: Path) -> int:
    """Copy each distribution's installed files into `site`; the bytes copied."""
    copied = 0
    for dist in dists.values():
        for file in dist.files or []:
            if str(file).startswith(".."):  # scripts and data outside site-packages
                continue
            source = Path(str(dist.locate_file(file)))
            if source.is_file():
                (site / file).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, site / file)
                copied += source.stat().st_size
    return copied


def see_through(site: Path) -> None:
    """Make this environment's packages importable there, after the venv's own: a path in a .pth file
    (the editable checkout's own .pth files in it are not read, so `trainscope` is the wheel's)."""
    (site / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")


def tree_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file() and not path.is_symlink())
