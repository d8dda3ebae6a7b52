#!/usr/bin/env python3
"""Median table of a bench/run.sh results file.

Input lines: `<framework> <scenario> <metric> <value> <unit>` (framework: troupe or caf).
Output: a Markdown table with the median and min-max per framework, the ratio troupe/CAF and
whether the row meets the goal (troupe at least 3x better than CAF; under 256 B per idle actor).
"""

import statistics
import sys

# Rows measured for insight only: no goal applies to them.
INFO_ROWS = {
    ("mailbox", "enqueue_rate"), ("mailbox", "drain_rate"),
    # The asynchronous-actor rows: measured side by side where CAF has the feature, no goal.
    ("skynet", "total"), ("skynet", "sum_ok"),
    ("coroutine", "plain_per_msg"), ("coroutine", "task_per_msg"), ("coroutine", "awaited_ask_round_trip"),
    ("restart", "restarts"),
}
# Absolute limits on troupe's own figure, on top of the ratio goal.
ABSOLUTE_LIMITS = {("spawn", "rss_per_actor"): 256.0}


def higher_is_better(unit):
    return unit.endswith("/s")


def fmt(x):
    if x == 0:
        return "0"
    if abs(x) >= 1e6:
        return f"{x / 1e6:.3g} M"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def spread(values):
    return f"{fmt(statistics.median(values))} ({fmt(min(values))}–{fmt(max(values))})"


def goal(key, unit, ratio, troupe_median):
    if key in INFO_ROWS:
        return "info", "—"
    text = "≥ 3" if higher_is_better(unit) else "≤ 0.33"
    met = ratio is not None and (ratio >= 3 if higher_is_better(unit) else ratio <= 1 / 3)
    limit = ABSOLUTE_LIMITS.get(key)
    if limit is not None:
        text += f" and < {limit:.0f} {unit}"
        met = met and troupe_median < limit
    return text, "yes" if met else "**no**"


def main(path):
    values = {}  # (scenario, metric) -> {"unit": unit, "troupe": [...], "caf": [...]}
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) != 5:
                continue
            framework, scenario, metric, value, unit = parts
            row = values.setdefault((scenario, metric), {"unit": unit, "troupe": [], "caf": []})
            row[framework].append(float(value))

    print("| scenario | metric | unit | troupe median (min–max) | CAF median (min–max) | troupe/CAF | goal | met |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for key, row in values.items():
        troupe, caf, unit = row["troupe"], row["caf"], row["unit"]
        t_med = statistics.median(troupe) if troupe else None
        c_med = statistics.median(caf) if caf else None
        ratio = t_med / c_med if t_med is not None and c_med else None
        goal_text, met = goal(key, unit, ratio, t_med)
        print(f"| {key[0]} | {key[1]} | {unit} | {spread(troupe) if troupe else 'n/a'} | "
              f"{spread(caf) if caf else 'n/a'} | {f'{ratio:.3g}' if ratio is not None else 'n/a'} | "
              f"{goal_text} | {met} |")
    runs = {len(r[fw]) for r in values.values() for fw in ("troupe", "caf")}
    print(f"\nruns per cell: {', '.join(str(n) for n in sorted(runs))}; raw values: {path}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: report.py <results file from bench/run.sh>")
    main(sys.argv[1])
