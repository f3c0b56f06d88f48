"""The bench's PNGs: latency percentiles against players (stack and socketio), and
leaderboard frames per session per second with each component's CPU."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from bench.e2e.report import SOCKETIO, STACK


def _series(
    results: Sequence[Mapping[str, Any]], system: str, key: str, q: str
) -> tuple[list[int], list[float]]:
    runs = sorted((r for r in results if r["system"] == system), key=lambda r: r["players"])
    return [r["players"] for r in runs], [r["summary"][key][q] for r in runs]


def plot_latency(results: Sequence[Mapping[str, Any]], path: Path) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, key, title, target in (
        (axes[0], "answer_to_score_ms", "answer → own SCORE_UPDATED", (150, 300)),
        (axes[1], "answer_to_leaderboard_ms", "answer → LEADERBOARD_UPDATED", (None, 450)),
    ):
        for system, style in ((STACK, "-"), (SOCKETIO, "--")):
            for q, colour in (("p50", "tab:blue"), ("p95", "tab:orange"), ("p99", "tab:red")):
                x, y = _series(results, system, key, q)
                if x:
                    ax.plot(x, y, style, marker="o", color=colour, label=f"{system} {q}")
        for limit in target:
            if limit:
                ax.axhline(limit, color="grey", linewidth=0.8, linestyle=":")
        ax.set_title(title)
        ax.set_xlabel("players")
        ax.set_yscale("log")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("ms (log)")
    axes[1].legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def plot_frames_and_cpu(results: Sequence[Mapping[str, Any]], path: Path) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for system, style in ((STACK, "-"), (SOCKETIO, "--")):
        runs = sorted((r for r in results if r["system"] == system), key=lambda r: r["players"])
        x = [r["players"] for r in runs]
        axes[0].plot(
            x,
            [r["summary"]["leaderboard_frames_per_session_s_max"] for r in runs],
            style,
            marker="o",
            label=system,
        )
    axes[0].axhline(10, color="grey", linewidth=0.8, linestyle=":")
    axes[0].set_title("leaderboard frames per session, busiest second")
    axes[0].set_xlabel("players")
    axes[0].set_ylim(bottom=0)
    axes[0].legend(fontsize=8)
    stack_runs = sorted((r for r in results if r["system"] == STACK), key=lambda r: r["players"])
    if stack_runs:
        names = list(stack_runs[0]["cpu_pct"])
        bottom = [0.0] * len(stack_runs)
        labels = [f"{r['players']:,}" for r in stack_runs]
        for name in names:
            values = [r["cpu_pct"][name] for r in stack_runs]
            axes[1].bar(labels, values, bottom=bottom, label=name)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        axes[1].axhline(200, color="grey", linewidth=0.8, linestyle=":")
        axes[1].set_title("stack CPU by process, mean over play (% of one core)")
        axes[1].set_xlabel("players")
        axes[1].legend(fontsize=6, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def write_plots(results: Sequence[Mapping[str, Any]], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / "bench-latency.png", folder / "bench-frames-cpu.png"]
    plot_latency(results, paths[0])
    plot_frames_and_cpu(results, paths[1])
    return paths
