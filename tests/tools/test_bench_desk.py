"""tools.benchmark.bench_desk runs end to end on a small database and prints its figures."""

from tools.benchmark.bench_desk import main


def test_desk_bench_prints_the_three_figures(capsys):
    assert main(["--conversations", "30", "--rounds", "3"]) == 0
    out = capsys.readouterr().out
    assert "seeded 30 closed conversations, 500 messages" in out
    last = out.strip().splitlines()[-1].split()
    assert [item.split("=")[0] for item in last] == [
        "desk_queue_p95_ms",
        "desk_thread_p95_ms",
        "desk_search_p95_ms",
    ]
    assert all(float(item.split("=")[1]) > 0 for item in last)
