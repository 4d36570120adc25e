"""`pip install .` (not only editable) must ship rules, schema and model as package data."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out), str(ROOT)],
        check=True, capture_output=True, cwd=out,
    )
    return next(out.glob("clinex-*.whl"))


def test_wheel_contains_package_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"pipeline/rules/{p.name}" for p in (ROOT / "rules").glob("*.jsonl")}
    expected.add("pipeline/schema/record.schema.json")
    model = ROOT / "pipeline" / "models"
    expected |= {p.relative_to(ROOT).as_posix() for p in model.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    assert expected - names == set()
    assert len(expected) > 3


def test_installed_wheel_works_from_any_directory(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    code = (
        "import pipeline, pathlib; "
        "assert pathlib.Path(pipeline.__file__).is_relative_to(pathlib.Path(r'%s')), pipeline.__file__; "
        "from pipeline.ruleset import validate_rules, rules_sha256; validate_rules(); print(rules_sha256())"
    ) % target
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                            env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.strip()) == 64
