"""Comparing careers run apart: the table and the plot read summary.json files."""

import json

import pytest

from trainee.careers.compare import load_summaries, main, metrics_table


def _summary(forgetting: float) -> dict:
    value = lambda x: {"iqm": x, "ci_low": x - 0.1, "ci_high": x + 0.1}  # noqa: E731
    return {"jobs": ["a", "b", "a'"], "forgetting": value(forgetting),
            "average_performance": value(0.5),
            "learning_speed": [value(0.2), value(0.4), value(0.6)]}


def test_table_and_plot_from_summaries(tmp_path, capsys):
    for name, forgetting in (("naive", 0.3), ("replay", 0.1)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "summary.json").write_text(json.dumps(_summary(forgetting)))
    summaries = load_summaries([tmp_path / "naive", tmp_path / "replay"])
    table = metrics_table(summaries, ["naive", "replay"]).splitlines()
    assert table[2] == "| naive | 0.500 [0.400, 0.600] | 0.300 [0.200, 0.400] | - | - | - |"
    assert table[3].startswith("| replay | 0.500 [0.400, 0.600] | 0.100 [0.000, 0.200] |")
    main([str(tmp_path / "naive"), str(tmp_path / "replay"), "--out", str(tmp_path / "p.png")])
    assert (tmp_path / "p.png").stat().st_size > 1000
    assert "naive" in capsys.readouterr().out


def test_missing_summary_names_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="run `trainee career` first"):
        load_summaries([tmp_path])


def test_bad_arguments_are_one_line(tmp_path, capsys):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "summary.json").write_text(json.dumps(_summary(0.3)))
    assert main([str(tmp_path / "a"), "--labels", "x", "y"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "trainee.careers.compare: error: 1 runs but 2 labels"]
    assert main([str(tmp_path / "nowhere")]) == 2
    assert "run `trainee career` first" in capsys.readouterr().err
