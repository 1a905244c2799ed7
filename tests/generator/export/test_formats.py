"""Every export format round-trips through the tool that reads it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from generator.errors import ExportError
from generator.export.exporter import ExportRequest, export_tasks, split_test_ids
from generator.export.formats import COMPLETION_END, build_rows
from generator.export.records import ExportInstance, ExportTask


def _tasks(n: int = 6) -> list[ExportTask]:
    out = []
    for i in range(1, n + 1):
        instances = (
            ExportInstance("" if i % 2 else f"input {i}", f"output {i}"),
            ExportInstance("", f"second {i}"),
        )
        out.append(
            ExportTask(
                i,
                f"Instruction number {i}, with ünïcode",
                "machine" if i > 1 else "seed",
                i % 3 == 0,
                instances,
                round_id=None if i == 1 else 1,
                model=None if i == 1 else "tiny-model",
                nearest_score=None if i == 1 else 0.1 * i,
            )
        )
    return out


def test_alpaca_is_a_json_list_of_instruction_input_output(tmp_path: Path) -> None:
    summary = export_tasks(_tasks(), ExportRequest("alpaca", str(tmp_path / "a.json")))
    data = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
    assert len(data) == 12 == summary.rows["train"]
    assert data[0] == {"instruction": "Instruction number 1, with ünïcode", "input": "", "output": "output 1"}
    assert data[2]["input"] == "input 2"


def test_an_empty_export_is_an_empty_json_list(tmp_path: Path) -> None:
    export_tasks([], ExportRequest("alpaca", str(tmp_path / "a.json")))
    assert json.loads((tmp_path / "a.json").read_text()) == []


def test_jsonl_has_one_task_per_line_with_its_instances(tmp_path: Path) -> None:
    export_tasks(_tasks(), ExportRequest("jsonl", str(tmp_path / "t.jsonl"), provenance=True))
    lines = [json.loads(x) for x in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert len(lines) == 6
    assert lines[1]["instances"] == [
        {"input": "input 2", "output": "output 2"},
        {"input": "", "output": "second 2"},
    ]
    assert lines[1]["round"] == 1 and lines[1]["model"] == "tiny-model" and lines[1]["task_id"] == 2
    assert "tags" not in lines[1]


def test_openai_chat_puts_the_input_after_a_blank_line_in_the_user_turn(tmp_path: Path) -> None:
    export_tasks(_tasks(), ExportRequest("openai-chat", str(tmp_path / "c.jsonl")))
    rows = [json.loads(x) for x in (tmp_path / "c.jsonl").read_text().splitlines()]
    assert rows[2] == {
        "messages": [
            {"role": "user", "content": "Instruction number 2, with ünïcode\n\ninput 2"},
            {"role": "assistant", "content": "output 2"},
        ]
    }
    assert rows[0]["messages"][0]["content"] == "Instruction number 1, with ünïcode"


def test_sharegpt_has_human_and_gpt_turns(tmp_path: Path) -> None:
    export_tasks(_tasks(), ExportRequest("sharegpt", str(tmp_path / "s.jsonl")))
    row = json.loads((tmp_path / "s.jsonl").read_text().splitlines()[0])
    assert [t["from"] for t in row["conversations"]] == ["human", "gpt"]
    assert row["conversations"][1]["value"] == "output 1"


def test_selfinstruct_prompts_vary_with_the_seed_and_repeat_with_it() -> None:
    tasks = _tasks(30)
    first = list(build_rows("selfinstruct", tasks, seed=1))
    again = list(build_rows("selfinstruct", tasks, seed=1))
    other = list(build_rows("selfinstruct", tasks, seed=2))
    assert first == again != other
    assert len({r["prompt"].split("Instruction number")[0] for r in first}) > 2  # several templates
    assert all(str(r["completion"]).endswith(COMPLETION_END) for r in first)
    assert first[2]["completion"] == f" output 2{COMPLETION_END}"
    assert "input 2" in str(first[2]["prompt"])


def test_parquet_reads_back_with_pyarrow_including_provenance(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    export_tasks(_tasks(), ExportRequest("parquet", str(tmp_path / "p.parquet"), provenance=True))
    table = pq.read_table(tmp_path / "p.parquet")
    assert table.num_rows == 12
    assert table.column_names[:3] == ["instruction", "input", "output"]
    rows = table.to_pylist()
    assert rows[0]["model"] is None and rows[0]["round"] is None
    assert rows[2]["model"] == "tiny-model" and rows[2]["nearest_score"] == pytest.approx(0.2)
    assert rows[2]["tags"] == []


def test_parquet_streams_in_several_row_groups(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pyarrow.parquet as pq

    from generator.export import sinks

    monkeypatch.setattr(sinks, "BATCH_ROWS", 5)
    export_tasks(_tasks(), ExportRequest("parquet", str(tmp_path / "p.parquet")))
    assert pq.ParquetFile(tmp_path / "p.parquet").num_row_groups == 3


def test_hf_folder_loads_with_datasets_and_has_a_card(tmp_path: Path) -> None:
    import datasets

    export_tasks(_tasks(), ExportRequest("hf", str(tmp_path / "ds"), provenance=True, pool="demo"))
    ds = datasets.load_from_disk(str(tmp_path / "ds"))
    assert ds.num_rows == 12
    assert ds[2]["output"] == "output 2" and ds[2]["model"] == "tiny-model"
    card = (tmp_path / "ds" / "README.md").read_text()
    assert card.startswith("---\n") and "pool `demo`" in card and "| train | 12 |" in card
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]


def test_hf_split_is_a_dataset_dict_by_task(tmp_path: Path) -> None:
    import datasets

    tasks = _tasks(10)
    export_tasks(
        tasks,
        ExportRequest("hf", str(tmp_path / "ds"), train_fraction=0.8, seed=3),
        ids=[t.id for t in tasks],
    )
    dd = datasets.load_from_disk(str(tmp_path / "ds"))
    assert dd["train"].num_rows == 16 and dd["test"].num_rows == 4
    assert not set(dd["train"]["instruction"]) & set(dd["test"]["instruction"])


def test_a_split_of_a_file_format_writes_train_and_test_files(tmp_path: Path) -> None:
    tasks = _tasks(10)
    summary = export_tasks(
        tasks,
        ExportRequest("alpaca", str(tmp_path / "a.json"), train_fraction=0.9, seed=0),
        ids=[t.id for t in tasks],
    )
    train = json.loads((tmp_path / "a.train.json").read_text())
    test = json.loads((tmp_path / "a.test.json").read_text())
    assert (len(train), len(test)) == (18, 2) == (summary.rows["train"], summary.rows["test"])
    assert not (tmp_path / "a.json").exists()


def test_the_split_is_seeded_and_exact() -> None:
    ids = list(range(1, 101))
    assert split_test_ids(ids, 0.9, 7) == split_test_ids(list(reversed(ids)), 0.9, 7)
    assert split_test_ids(ids, 0.9, 7) != split_test_ids(ids, 0.9, 8)
    assert len(split_test_ids(ids, 0.9, 7)) == 10


def test_a_producer_failure_leaves_no_partial_export(tmp_path: Path) -> None:
    def broken() -> object:
        yield from _tasks(3)
        raise RuntimeError("database went away")

    for fmt, name in [("alpaca", "a.json"), ("parquet", "p.parquet"), ("hf", "ds")]:
        with pytest.raises(RuntimeError):
            export_tasks(broken(), ExportRequest(fmt, str(tmp_path / name)))  # type: ignore[arg-type]
    assert os.listdir(tmp_path) == []


def test_bad_requests_name_the_bad_value() -> None:
    with pytest.raises(ExportError, match=r"'csv'.*alpaca"):
        ExportRequest("csv", "x")
    with pytest.raises(ExportError, match=r"--split 1\.5"):
        ExportRequest("alpaca", "x", train_fraction=1.5)
    with pytest.raises(ExportError, match="standard output"):
        ExportRequest("hf", "-")


def test_jsonl_to_standard_output(capsys: pytest.CaptureFixture[str]) -> None:
    export_tasks(_tasks(2), ExportRequest("jsonl", "-"))
    assert len(capsys.readouterr().out.splitlines()) == 2
