"""`narcowatch cluster --input ... --output ... --explain ... --feedback ...`."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from narcowatch.cli import cli

DATA = Path(__file__).parent / "data" / "vendor_accounts.jsonl"


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_cluster_command_writes_assignments_and_explanations(tmp_path: Path) -> None:
    out, explain = tmp_path / "clusters.jsonl", tmp_path / "links.jsonl"
    result = CliRunner().invoke(cli, ["cluster", "--input", str(DATA), "--output", str(out),
                                      "--explain", str(explain)])
    assert result.exit_code == 0, result.output
    rows = read_jsonl(out)
    assert {r["account_id"] for r in rows} == {r["account_id"] for r in read_jsonl(DATA)}
    assert all(set(r) == {"account_id", "cluster_id", "confidence"} for r in rows)
    by_id = {r["account_id"]: r["cluster_id"] for r in rows}
    assert by_id["agora:1"] == by_id["dream:7"] != by_id["hydra:5"]
    links = read_jsonl(explain)
    joined = [lk for lk in links if lk["status"] == "joined"]
    assert joined and all(lk["sentence"] and lk["evidence"] for lk in joined)


def test_feedback_file_is_respected(tmp_path: Path) -> None:
    feedback = tmp_path / "feedback.jsonl"
    feedback.write_text(json.dumps({"kind": "reject", "account_a": "agora:1", "account_b": "dream:7",
                                    "who": "inv.jones", "when": "2024-05-01T10:00:00Z"}) + "\n")
    out = tmp_path / "clusters.jsonl"
    result = CliRunner().invoke(cli, ["cluster", "--input", str(DATA), "--output", str(out),
                                      "--feedback", str(feedback)])
    assert result.exit_code == 0, result.output
    by_id = {r["account_id"]: r["cluster_id"] for r in read_jsonl(out)}
    assert by_id["agora:1"] != by_id["dream:7"]


def test_bad_input_names_file_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "accounts.jsonl"
    bad.write_text('{"account_id": "a:1", "site": "a", "handle": "x"}\n{"account_id": "a:2", "site": "a"}\n')
    result = CliRunner().invoke(cli, ["cluster", "--input", str(bad), "--output", str(tmp_path / "o.jsonl")])
    assert result.exit_code != 0
    assert "line 2" in result.output and "handle" in result.output
    bad.write_text("{not json\n")
    result = CliRunner().invoke(cli, ["cluster", "--input", str(bad), "--output", str(tmp_path / "o.jsonl")])
    assert result.exit_code != 0 and "line 1" in result.output and "JSON" in result.output
