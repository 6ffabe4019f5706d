"""The model core imports neither the metrics, the tasks nor the launcher (ARCHITECTURE.md: spec -> runs ->
executor -> worker -> task -> record; evaluation lives with the metrics and the tasks). Read from the source
with ast, so an import inside a function counts as much as one at the top."""
from __future__ import annotations

import ast
from pathlib import Path

import repro

ROOT = Path(repro.__file__).parent
FORBIDDEN = ("repro.metrics", "repro.tasks", "repro.launch")


def imported_modules(path: Path, root: Path = ROOT) -> set[str]:
    """Absolute names of every module ``path`` imports (relative imports resolved against its package)."""
    package = ".".join(("repro", *path.relative_to(root).parent.parts))
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)  # `from repro import metrics`
    return names


def test_the_reader_resolves_absolute_relative_and_nested_imports(tmp_path):
    core = tmp_path / "core" / "pkg"
    core.mkdir(parents=True)
    source = core / "mod.py"
    source.write_text("import os\nfrom .model import X\nfrom .. import metrics\n"
                      "def f():\n    from repro.tasks import image_gan\n")
    names = imported_modules(source, root=tmp_path)
    assert {"os", "repro.core.pkg.model", "repro.core.metrics", "repro.tasks", "repro.tasks.image_gan"} <= names


def test_no_module_under_repro_core_imports_metrics_tasks_or_launch():
    files = sorted((ROOT / "core").rglob("*.py"))
    assert len(files) > 20 and any(f.name == "trainer.py" for f in files)
    offending = {f"{path.relative_to(ROOT.parent)}: {name}" for path in files for name in imported_modules(path)
                 if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN)}
    assert not offending, sorted(offending)
    assert "repro.runtime" in imported_modules(ROOT / "core" / "image_gan" / "trainer.py")  # the reader sees imports
