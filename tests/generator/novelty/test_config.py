"""The index's knobs come in one IndexConfig; SELFINSTRUCT_NATIVE is a setting the wiring turns into one."""

from __future__ import annotations

import pytest

from generator.novelty import HAS_NATIVE, IndexConfig, NoveltyIndex
from generator.settings import load_settings
from generator.wiring import index_config


def test_selfinstruct_native_0_turns_the_c_kernel_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SELFINSTRUCT_NATIVE", "0")
    config = index_config(load_settings())
    assert config == IndexConfig(native=False)
    assert NoveltyIndex(0.7, ["a b c"], config)._native is None


def test_without_the_variable_the_kernel_is_used_when_it_was_built(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SELFINSTRUCT_NATIVE", raising=False)
    config = index_config(load_settings())
    assert config.native is True
    assert (NoveltyIndex(0.7, ["a b c"], config)._native is not None) == HAS_NATIVE


def test_an_invalid_value_is_a_config_error_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from generator.errors import ConfigError

    monkeypatch.setenv("SELFINSTRUCT_NATIVE", "perhaps")
    with pytest.raises(ConfigError, match="SELFINSTRUCT_NATIVE"):
        load_settings()


@pytest.mark.parametrize("bad", [{"prefix_extra": 0}, {"tail_items": 0}, {"inverted_min_tail": 0}])
def test_a_config_that_cannot_work_is_refused(bad: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="invalid novelty index config"):
        IndexConfig(**bad)


def test_the_prefix_length_knob_changes_the_search_not_the_answers() -> None:
    pool = ["write a short poem about the sea", "list three colors of the rainbow", "explain how tides work"]
    probes = ["write a short poem about the ocean", "explain how the tides work", "name a fruit"]
    answers = {extra: [NoveltyIndex(0.5, pool, IndexConfig(prefix_extra=extra)).check(p) for p in probes]
               for extra in (1, 2, 3)}
    assert answers[1] == answers[2] == answers[3]
    assert [v.novel for v in answers[1]] == [False, False, True]


def test_passing_a_config_along_does_not_import_the_index_or_numpy() -> None:
    import subprocess
    import sys

    code = ("import sys\nfrom generator.novelty import IndexConfig\nIndexConfig(native=False)\n"
            "print('numpy' in sys.modules, 'generator.novelty.index' in sys.modules)\n"
            "from generator.novelty import NoveltyIndex\nprint('numpy' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False", "True"]
