import json
import subprocess
import sys

import pytest

from nfit import cli
from nfit.demo import format_report, run_demo


def test_demo_report_small():
    report = run_demo(n_events=6000, repeats=1, quiet=True)
    assert report["valid"]
    assert set(report["fits"]) == {"eager", "compiled"}
    for name, d in report["params"].items():
        assert abs(d["value"] - d["eager_value"]) < 1e-3 * d["error"], name
        assert abs(d["value"] - d["truth"]) < 4 * d["error"], name
    text = format_report(report)
    assert "warm fit" in text and "mu" in text and "cache" in text


def test_demo_json_command():
    out = subprocess.run([sys.executable, "-m", "nfit", "demo", "--events", "4000", "--repeats", "1", "--json"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["events"] == 4000 and report["valid"]
    assert report["fits"]["compiled"]["n_eval"] > 0


def test_cache_command(capsys):
    assert cli.main(["cache", "info"]) == 0
    assert "folder" in capsys.readouterr().out


def test_bad_arguments():
    with pytest.raises(SystemExit):
        cli.main(["demo", "--events", "1"])
    with pytest.raises(SystemExit):
        cli.main(["nonsense"])
