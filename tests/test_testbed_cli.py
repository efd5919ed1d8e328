"""`narcowatch testbed answer-key | serve | set-day`."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

import testbed
from narcowatch.cli import cli

ROOT = Path(__file__).resolve().parents[1]


def test_answer_key_command_writes_the_key(tmp_path):
    out = tmp_path / "k" / "day3.json"
    res = CliRunner().invoke(cli, ["testbed", "answer-key", "--day", "3", "--seed", "11", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert json.loads(out.read_text()) == json.loads(json.dumps(testbed.answer_key(11, 3)))
    bad = CliRunner().invoke(cli, ["testbed", "answer-key", "--day", "40"])
    assert bad.exit_code != 0 and "outside" in bad.output


def _free_base(n: int = 6) -> int:
    for base in range(23100, 60000, 97):
        socks = []
        try:
            for i in range(n):
                s = socket.socket()
                s.bind(("127.0.0.1", base + i))
                socks.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free port range")


@pytest.mark.timeout(60)
def test_serve_set_day_and_clean_stop(tmp_path):
    base = _free_base()
    env = {**os.environ, "NARCOWATCH_HOME": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "narcowatch", "testbed", "serve", "--base-port", str(base)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        state = tmp_path / "testbed.json"
        deadline = time.time() + 30
        while not state.exists() and time.time() < deadline and proc.poll() is None:
            time.sleep(0.1)
        info = json.loads(state.read_text())
        assert info["sites"]["market_a"] == f"http://127.0.0.1:{base}"
        assert info["proxy_url"] == f"socks5h://127.0.0.1:{base + 4}"
        assert info["control_url"] == f"http://127.0.0.1:{base + 5}"
        forum = urllib.request.urlopen(info["sites"]["forum"] + "/", timeout=5).read()
        assert b"2026-09-28" in forum
        res = CliRunner(env={"NARCOWATCH_HOME": str(tmp_path)}).invoke(cli, ["testbed", "set-day", "2"])
        assert res.exit_code == 0, res.output
        assert b"2026-09-29" in urllib.request.urlopen(info["sites"]["forum"] + "/", timeout=5).read()
        bad = CliRunner(env={"NARCOWATCH_HOME": str(tmp_path)}).invoke(cli, ["testbed", "set-day", "99"])
        assert bad.exit_code != 0 and "outside" in bad.output
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        assert not state.exists()
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", base), timeout=1).close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_set_day_without_a_running_testbed_says_what_to_do(tmp_path):
    res = CliRunner(env={"NARCOWATCH_HOME": str(tmp_path)}).invoke(cli, ["testbed", "set-day", "2"])
    assert res.exit_code != 0 and "narcowatch testbed serve" in res.output
