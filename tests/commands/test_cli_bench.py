from __future__ import annotations

import json

from optuna_hwprune.cli import main


def test_bench_query_index0(tmp_path, capsys) -> None:
    out = tmp_path / "out.json"
    assert main(["bench", "query", "--dataset", "cifar10", "--index", "0", "--json", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["edgegpu_latency"] == 5.807418537139893
    assert record["fpga_latency"] == 2.57296
    assert record["fpga_energy"] == 18.01072
    assert record["params"] == 129306
    assert "fpga_latency" in capsys.readouterr().out


def test_bench_query_by_arch_reports_missing(tmp_path) -> None:
    out = tmp_path / "out.json"
    arch = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    assert main(["bench", "query", "--dataset", "cifar100", "--arch", arch, "--json", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["arch"] == arch
    assert record["edgetpu_latency"] is None


def test_bench_front_under_constraint(tmp_path) -> None:
    out = tmp_path / "front.json"
    args = ["bench", "front", "--dataset", "cifar10", "--metric", "fpga_latency", "--constraint", "params<=1.1e6"]
    assert main([*args, "--seeds", "3", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    front = result["front"]
    assert result["constraints"] == ["params<=1.1e+06"]
    assert all(cell["params"] <= 1.1e6 for cell in front)
    latencies = [cell["fpga_latency"] for cell in front]
    assert latencies == sorted(latencies)
    assert len(result["seeds"]) == 3


def test_bench_errors_exit_2(capsys) -> None:
    assert main(["bench", "query", "--index", "15625"]) == 2
    assert "15625" in capsys.readouterr().err
    assert main(["bench", "front", "--constraint", "latency<=2"]) == 2
    assert "fpga_latency" in capsys.readouterr().err
    assert main(["bench", "front", "--constraint", "fpga_latency<=0.1"]) == 2
    assert "nearest is index" in capsys.readouterr().err
