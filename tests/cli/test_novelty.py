"""`novelty check`, `dedup` and `decontaminate` through a local Typer app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from rouge_score import rouge_scorer
from typer.testing import CliRunner

from cli.novelty import register
from generator.files.textio import read_instructions, read_records, write_json_atomic, write_jsonl_atomic
from tests.support.reference import reference_file

SCORER = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)


def make_app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.callback()
    def main() -> None:
        """Test app."""

    return app


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(make_app(), list(args))
    return result.exit_code, result.stdout, result.stderr


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


POOL = ["Write a poem about the sea.", "List three primary colors.", "Explain how a rainbow forms."]
CANDS = [
    "write a short poem about the sea",  # near-duplicate of pool 0
    "Translate this sentence into French.",  # novel
    "Translate the sentence into French please.",  # near-duplicate of the previous candidate
    "List the three primary colors!",  # near-duplicate of pool 1
]


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    pool = tmp_path / "pool.jsonl"
    pool.write_text("".join(json.dumps({"instruction": t, "id": i}) + "\n" for i, t in enumerate(POOL)))
    cands = tmp_path / "cands.txt"
    cands.write_text("\n".join(CANDS) + "\n")
    return pool, cands


def test_check_outputs_one_line_per_candidate(files: tuple[Path, Path], tmp_path: Path) -> None:
    pool, cands = files
    out = tmp_path / "out.jsonl"
    code, _, err = run("novelty", "check", "--pool", str(pool), "--candidates", str(cands), "-o", str(out))
    assert code == 0, err
    rows = lines(out)
    assert [r["instruction"] for r in rows] == CANDS
    assert [r["novel"] for r in rows] == [False, True, True, False]
    near = rows[0]["nearest"]
    assert isinstance(near, dict)
    assert near["index"] == 0 and near["instruction"] == POOL[0]
    assert near["score"] == SCORER.score(POOL[0], CANDS[0])["rougeL"].fmeasure
    assert rows[1]["nearest"] is None
    assert "4 candidates: 2 novel" in err


def test_check_sequential_admits_into_pool(files: tuple[Path, Path]) -> None:
    pool, cands = files
    code, out, err = run("novelty", "check", "--pool", str(pool), "--candidates", str(cands), "--sequential")
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["novel"] for r in rows] == [False, True, False, False]
    assert rows[2]["nearest"]["index"] == 3  # the admitted candidate took the next pool index
    assert rows[2]["nearest"]["instruction"] == CANDS[1]


def test_check_threshold_option(files: tuple[Path, Path]) -> None:
    pool, cands = files
    args = ("novelty", "check", "--pool", str(pool), "--candidates", str(cands), "--threshold")
    code, out, _ = run(*args, "1.0")
    assert code == 0
    assert all(json.loads(line)["novel"] for line in out.splitlines())
    code, _, err = run(*args, "0")
    assert code == 2 and "threshold" in err


def test_dedup_keeps_first_occurrence(tmp_path: Path) -> None:
    data = tmp_path / "data.jsonl"
    rows = [{"instruction": t, "extra": i} for i, t in enumerate(POOL + CANDS)]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out, report = tmp_path / "dedup.jsonl", tmp_path / "report.jsonl"
    code, _, err = run("dedup", str(data), "--output", str(out), "--report", str(report))
    assert code == 0, err
    kept = lines(out)
    assert kept == [rows[0], rows[1], rows[2], rows[4]]  # original objects, extra fields kept
    dropped = lines(report)
    assert [d["index"] for d in dropped] == [3, 5, 6]
    first = dropped[0]["nearest"]
    assert isinstance(first, dict) and first["index"] == 0 and first["line"] == 1
    assert "dropped 3 near-duplicates" in err


def test_decontaminate_against_reference_set(tmp_path: Path) -> None:
    reference = reference_file("user_oriented_instructions.jsonl")
    eval_texts = read_instructions(reference)
    leaked = eval_texts[5].replace(".", "!", 1)
    data = tmp_path / "data.txt"
    data.write_text("\n".join([POOL[0], leaked, POOL[1], eval_texts[17]]) + "\n")
    out, report = tmp_path / "clean.jsonl", tmp_path / "dropped.jsonl"
    code, _, err = run(
        "decontaminate", str(data), "--against", str(reference), "-o", str(out), "--report", str(report)
    )
    assert code == 0, err
    assert [r["instruction"] for r in lines(out)] == [POOL[0], POOL[1]]
    dropped = lines(report)
    assert [(d["index"], d["reason"]) for d in dropped] == [(1, "contaminated"), (3, "contaminated")]
    near = dropped[1]["nearest"]
    assert isinstance(near, dict) and near["index"] == 17 and near["score"] == 1.0 and near["line"] == 18
    assert "dropped 2 too close" in err and "dropped line 2" in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"instruction": "ok"}\n{"instruction": \n', "pool.jsonl:2: invalid JSON"),
        ('{"instruction": "ok"}\n{"text": "x"}\n', "pool.jsonl:2: missing field 'instruction'"),
        ('{"instruction": "ok"}\n\n{"instruction": 5}\n', "pool.jsonl:3: field 'instruction' must be a str"),
        ('{"instruction": "ok"}\n[1, 2]\n', "pool.jsonl:2: expected a JSON object"),
    ],
)
def test_bad_files_name_file_and_line(
    files: tuple[Path, Path], tmp_path: Path, content: str, message: str
) -> None:
    _, cands = files
    bad = tmp_path / "pool.jsonl"
    bad.write_text(content)
    out = tmp_path / "out.jsonl"
    code, _, err = run("novelty", "check", "--pool", str(bad), "--candidates", str(cands), "-o", str(out))
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_bad_utf8_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "data.txt"
    bad.write_bytes(b"fine line\n\xff\xfe broken\n")
    out = tmp_path / "out.jsonl"
    code, _, err = run("dedup", str(bad), "-o", str(out))
    assert code == 2 and "data.txt:2: not valid UTF-8" in err
    code, _, err = run("dedup", str(tmp_path / "nope.txt"), "-o", str(out))
    assert code == 2 and "nope.txt: cannot read file" in err
    assert not out.exists()


def test_failed_run_leaves_previous_output_untouched(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"instruction": "a"}\nnot json\n')
    code, _, _ = run("dedup", str(bad), "-o", str(out))
    assert code == 2
    assert out.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.jsonl", "out.jsonl"]  # no temp files
    good = tmp_path / "good.txt"
    good.write_text("one instruction\n")
    code, _, err = run("dedup", str(good), "-o", str(tmp_path / "missing-dir" / "out.jsonl"))
    assert code == 2 and "cannot write" in err


def test_format_detection(tmp_path: Path) -> None:
    as_text = tmp_path / "a.txt"
    as_text.write_text('\n{"instruction": "from json", "x": 1}\n')
    assert read_instructions(as_text) == ["from json"]
    plain = tmp_path / "b.txt"
    plain.write_text("first line\n\n  second line \n")
    records = read_records(plain)
    expected = [(1, "first line", None), (3, "  second line ", None)]
    assert [(r.line, r.instruction, r.raw) for r in records] == expected
    empty = tmp_path / "c.jsonl"
    empty.write_text("")
    assert read_instructions(empty) == []


def test_atomic_writers(tmp_path: Path) -> None:
    target = tmp_path / "data.json"
    write_json_atomic(target, [{"instruction": "é"}])
    assert json.loads(target.read_text(encoding="utf-8")) == [{"instruction": "é"}]
    with pytest.raises(TypeError):
        write_jsonl_atomic(target, [{"ok": 1}, {"bad": object()}])  # fails half-way through
    assert json.loads(target.read_text(encoding="utf-8")) == [{"instruction": "é"}]
    assert [p.name for p in tmp_path.iterdir()] == ["data.json"]


def test_nearest_index_is_the_pool_file_line_even_with_blank_lines(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    app = typer.Typer()
    register(app)
    pool = tmp_path / "pool.txt"
    pool.write_text("Summarize the article in two sentences.\n\nTranslate the sentence into French please.\n")
    cands = tmp_path / "cands.txt"
    cands.write_text("Translate the sentence into French please now.\nList three uses of copper in homes.\n"
                     "List three uses of copper in homes today.\n")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, ["novelty", "check", "--pool", str(pool), "--candidates", str(cands),
                                      "--sequential", "--output", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows[0]["nearest"]["index"] == 2
    assert rows[1]["novel"] is True
    assert rows[2]["nearest"]["index"] == 3


def test_decontaminate_against_an_empty_file_warns(tmp_path: Path) -> None:
    data, empty = tmp_path / "data.txt", tmp_path / "eval.txt"
    data.write_text("\n".join(POOL[:2]) + "\n")
    empty.write_text("")
    code, _, err = run("decontaminate", str(data), "--against", str(empty), "-o", str(tmp_path / "out.jsonl"))
    assert code == 0, err
    assert f"warning: {empty} holds no instructions" in err
    assert len(lines(tmp_path / "out.jsonl")) == 2
