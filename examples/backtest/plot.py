#!/usr/bin/python3
"""Plots a spotopt-backtest results file (--json) with Debian's matplotlib:

  cumulative_cost.png      cumulative cost per strategy over time, and each spot
                           strategy's cost above the oracle's (on-demand dwarfs them)
  prices_and_moves.png     the prices of one agent's pools with each strategy's moves marked
  savings_vs_switches.png  savings against on-demand versus the number of switches (the
                           on-demand strategy, 0 and 0, is left out)

usage: examples/backtest/plot.py RESULTS.json OUTDIR
"""
import json
import os
import sys
from datetime import datetime

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

MARKERS = "ov^sDP*Xh<>p"


def when(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def ran(section):
    return [s for s in section["strategies"] if s["status"] == "ok"]


def cumulative_cost(results, out):
    sections = results["sections"]
    fig, axes = plt.subplots(2, len(sections), figsize=(7 * len(sections), 9), squeeze=False)
    for col, section in enumerate(sections):
        strategies = ran(section)
        oracle = {d: c for d, c in next((s["daily_cost_micros"] for s in strategies
                                         if s["name"] == "oracle"), [])}
        for k, s in enumerate(strategies):
            colour = f"C{k}"  # the same strategy has the same colour in both panels
            days = [datetime.fromisoformat(d) for d, _ in s["daily_cost_micros"]]
            total, extra, over = 0, 0, []
            cumulative = []
            for d, c in s["daily_cost_micros"]:
                total += c
                extra += c - oracle.get(d, c)
                cumulative.append(total / 1e6)
                over.append(extra / 1e6)
            axes[0][col].plot(days, cumulative, color=colour, label=s["name"])
            if s["name"] != "on-demand":
                axes[1][col].plot(days, over, color=colour, label=s["name"])
        axes[0][col].set_title(f"{section['name']}: cumulative cost ({section['agents']} agents)")
        axes[0][col].set_ylabel("USD")
        axes[1][col].set_title("cumulative cost above the oracle's")
        axes[1][col].set_ylabel("USD")
        for ax in axes[:, col]:
            ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
            ax.grid(alpha=0.3)
            ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "cumulative_cost.png"), dpi=110)
    plt.close(fig)


def prices_and_moves(results, out):
    section = results["sections"][-1]
    plot = section["plot"]
    own_type = plot["agent"].split("#")[0]
    fig, ax = plt.subplots(figsize=(14, 6))
    price_of = {}
    for series in plot["series"]:
        if series["name"].endswith(" on-demand"):
            continue  # far above every pool; it would flatten the plot
        xs = [when(t) for t, _ in series["steps"]]
        ys = [p / 1e6 for _, p in series["steps"]]
        price_of[series["name"]] = list(zip(xs, ys))
        mine = series["name"].startswith(own_type + ".")
        ax.step(xs + [when(results["period"]["end"])], ys + ys[-1:], where="post",
                linewidth=1.4 if mine else 0.6, alpha=1.0 if mine else 0.35,
                label=series["name"] if mine else None)
    for k, s in enumerate(ran(section)):
        xs, ys = [], []
        for t, _, to, _kind in s["plot_moves"]:
            steps = price_of.get(to)
            if not steps:
                continue  # a move to on-demand
            moment = when(t)
            ys.append(next((p for x, p in reversed(steps) if x <= moment), steps[0][1]))
            xs.append(moment)
        if xs:
            ax.scatter(xs, ys, marker=MARKERS[k % len(MARKERS)], s=28, color=f"C{k}",
                       label=f"{s['name']} moves", zorder=3)
    ax.set_title(f"{section['name']}: prices of {plot['agent']}'s pools (faint: its family) "
                 "and where each strategy moved it")
    ax.set_ylabel("USD per hour")
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", ncol=2)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "prices_and_moves.png"), dpi=110)
    plt.close(fig)


def savings_vs_switches(results, out):
    sections = results["sections"]
    fig, axes = plt.subplots(1, len(sections), figsize=(7 * len(sections), 5.5), squeeze=False)
    for col, section in enumerate(sections):
        ax = axes[0][col]
        for k, s in enumerate(ran(section)):
            if s["name"] == "on-demand":
                continue
            ax.scatter(s["switches"], s["savings_micros"] / 1e6, marker=MARKERS[k % len(MARKERS)],
                       s=70, alpha=0.8, color=f"C{k}", label=s["name"])
        ax.set_title(f"{section['name']}: savings against on-demand vs switches")
        ax.set_xlabel("switches")
        ax.set_ylabel("USD saved")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "savings_vs_switches.png"), dpi=110)
    plt.close(fig)


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    with open(argv[1]) as f:
        results = json.load(f)
    os.makedirs(argv[2], exist_ok=True)
    cumulative_cost(results, argv[2])
    prices_and_moves(results, argv[2])
    savings_vs_switches(results, argv[2])


if __name__ == "__main__":
    main(sys.argv)
