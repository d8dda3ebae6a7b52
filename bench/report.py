#!/usr/bin/env python3
"""Median table of a bench/run.sh results file.

Input lines: `<framework> <scenario> <metric> <value> <unit>` (framework: troupe, caf or floor).
Output: a Markdown table, one row per (scenario, metric), saying what the row measures, with the
median and min-max per framework, the ratios troupe/CAF and troupe/floor, and whether the row
meets the goal (troupe at least 3x better than CAF; under 256 B per idle actor). The floor is
bench_floor, the same pattern with bare threads and a lock-free queue; a row has a floor figure
where bench_floor prints the same scenario and metric, which it does for its spinning variants
(troupe's waiters and idle workers spin before they sleep). Rows only the floor has (its
blocking variants) follow in a second table.

The process-actor scenarios (bench_processes) get a table of their own: troupe next to the bare
floor measured in the same runs, and next to tractor's figures, which are quoted (tractor cannot
run here), with the goals of the process-actor issue.

The remote-actor scenarios (bench_remote_actors and bench_caf_remote: an actor in another process
told and asked through its ref, against CAF 0.17's libcaf_io remote actors) get a third table:
troupe, CAF and troupe's floor (measured in troupe's runs), the ratios, and the goals of the
remote-actor issue (tell throughput at least 5x CAF's with flat memory, round trips at most 1/5
of CAF's, no message lost in any run).
"""

import statistics
import sys

FRAMEWORKS = ("troupe", "caf", "floor")

# What each row measures, in one line. A row's floor figure (if any) is the same metric of the
# same scenario in bench_floor; its method is named after "floor:".
MEASURES = {
    ("pingpong", "per_msg"): "2 actors bounce 1 token, 2 workers: wall time / 1M messages. "
                             "floor: 2 threads, each spinning on its queue",
    ("pingpong", "block_per_msg"): "floor: the same 2 threads, each sleeping on a futex whenever its queue is "
                                   "empty (100k messages)",
    ("pingpong1", "per_msg"): "the same ping-pong on 1 worker. floor: 1 thread pushes the token into each "
                              "queue in turn and pops it there (no handoff)",
    ("pairs", "per_msg"): "4 × workers pairs (8) bounce their own tokens at once, 2 workers: wall time / "
                          "all 2M messages",
    ("pairs", "first_done_at"): "when the first pair finished, in % of that wall time (about 100: the pairs "
                                "shared the workers; 25: each worker ran its pairs one after another)",
    ("mailbox", "bytes_per_queued_msg"): "RSS growth per message while 4M sit in the mailbox of a receiver held "
                                         "inside a handler",
    ("mailbox", "enqueue_rate"): "2 sender threads × 2M sends into that held receiver: msg/s of the sending",
    ("mailbox", "drain_rate"): "the held receiver then handling the 4M: msg/s",
    ("mailbox", "throughput"): "2 sender threads × 2M sends, receiver consuming meanwhile: msg/s until all "
                               "handled. floor: 2 threads push into 1 queue, main pops, spinning when it "
                               "is empty",
    ("mailbox", "throughput_block"): "floor: the same, the consumer sleeping on a futex whenever the queue is "
                                     "empty",
    ("fanout", "rounds"): "1 coordinator, 1,000 workers: rounds/s of 1,000 messages out and 1,000 replies back",
    ("spawn", "per_actor"): "1M spawns from main until every actor ran its first activation: ns / actor",
    ("spawn", "rss_per_actor"): "RSS growth per live idle actor (handle array excluded)",
    ("spawn", "teardown_per_actor"): "drop the handles, then troupe shutdown() / CAF await_all_actors_done(): "
                                     "ns / actor",
    ("ask", "mean"): "main (not an actor) asks an echo actor and waits, 100k in a row: round trip, mean. "
                     "floor: main and a server thread, both spinning",
    ("ask", "p50"): "the same round trips: median. floor: both threads spinning",
    ("ask", "p99"): "the same round trips: 99th percentile. floor: both threads spinning",
    ("ask", "cpu_per_round_trip"): "process CPU time (all threads) over the ask loop / round trips; more than "
                                   "the mean = more than one thread busy per round trip. floor: both spinning",
    ("ask", "block_mean"): "floor: main and a server thread, both sleeping on a futex whenever their queue is "
                           "empty (10k round trips): round trip, mean",
    ("ask", "block_p50"): "floor, both threads sleeping: round trip, median",
    ("ask", "block_p99"): "floor, both threads sleeping: round trip, 99th percentile",
    ("ask", "block_cpu_per_round_trip"): "floor, both threads sleeping: process CPU time / round trips",
    ("ring", "per_hop"): "503 actors pass 1 token round a ring, 2 workers: wall time / 1M hops",
    ("ring1", "per_hop"): "the same ring on 1 worker: wall time / 1M hops",
    ("idle", "cpu"): "100 started, idle actors for 5 s: CPU time of all threads, % of one core",
    ("skynet", "total"): "a tree of 1,111,111 actors sums its leaves: seconds until the sum reached main",
    ("skynet", "all_ended"): "the same run: seconds until every actor had ended (troupe: the registry is "
                             "empty, each actor leaving it in its last turn; CAF: await_all_actors_done() "
                             "returned)",
    ("skynet", "shutdown_returned"): "the same run: seconds until the system was down (troupe: shutdown() "
                                     "returned; CAF: the actor_system's destructor returned)",
    ("skynet", "sum_ok"): "1 if the tree's sum was right",
    ("coroutine", "plain_per_msg"): "1M-message ping-pong, plain handlers: ns / message",
    ("coroutine", "task_per_msg"): "the same with task<void> handlers that do not suspend: ns / message",
    ("coroutine", "awaited_ask_round_trip"): "a coroutine handler awaits 100k asks of another actor in a row: "
                                             "ns / round trip",
    ("restart", "restarts"): "one_for_one supervisor, a child that fails on its first message: restarts/s "
                             "over 20,000",
}

# The process-actor rows (bench_processes): troupe and its floor come from the same runs.
PROCESS_SCENARIOS = ("process_spawn", "portal_run", "process_stream", "context_pingpong")
MEASURES.update({
    ("process_spawn", "result"): "run_in_actor of a trivial function (int echo) until its result is back in the "
                                 "parent: spawn, exec, the child's runtime start, handshake, call, reply",
    ("process_spawn", "reaped"): "the same, until open_actor_nursery returned: cancel, ack, the child's exit, "
                                 "reaped through its pidfd",
    ("process_spawn", "run_in_actor_call"): "how long the run_in_actor call itself blocks: posix_spawn on the "
                                            "I/O thread (vfork: until the child's execve is done)",
    ("process_spawn", "exec_minimal"): "floor: posix_spawn + exec + exit of bench_exit (an empty main that loads "
                                       "libstdc++), until waitpid returned",
    ("process_spawn", "exec_self_to_main"): "floor: posix_spawn of this executable (--bench-floor exit), until its "
                                            "main wrote a byte to a pipe: exec, loader, static initialisers",
    ("process_spawn", "exec_self"): "floor: the same, until waitpid returned (exits at once, before troupe starts)",
    ("process_spawn", "exec_share"): "exec_self / result, same run: the share of the result time that starting and "
                                     "ending this executable costs with no troupe in it",
    ("process_spawn", "to_main_share"): "exec_self_to_main / result, same run: the share spent before the child's "
                                        "main runs",
    ("portal_run", "mean"): "sequential `co_await portal.run(&echo, int)` to a daemon, 10k, in 20 blocks "
                            "alternating with the floor's. floor: a raw round trip of the same frame sizes over "
                            "a socket pair to a child process, blocking write and read on both sides",
    ("portal_run", "p50"): "the same round trips: median",
    ("portal_run", "p99"): "the same round trips: 99th percentile",
    ("portal_run", "cpu_per_round_trip"): "CPU of both processes (all threads) over its round trips / round trips "
                                          "(the child's from /proc, 10 ms ticks)",
    ("portal_run", "request_bytes"): "floor: the bytes it writes, the size of troupe's start frame",
    ("portal_run", "reply_bytes"): "floor: the bytes it reads back, the size of troupe's returned frame",
    ("process_stream", "rate"): "ints from a daemon's troupe::generator<int> through portal.open_stream to a "
                                "consumer that keeps up, 2M per round, median of 3 rounds. floor: a child writes "
                                "the same yield frames 64 KiB at a time, the parent reads and decodes them",
    ("process_stream", "slow_consumer_rate"): "then a consumer that spins 10 / rate seconds per item: what it "
                                              "reached (items/s)",
    ("process_stream", "slow_consumer_items"): "how many items that slow stream carried (about 3 s of it)",
    ("process_stream", "rss_parent_start"): "parent's VmRSS (/proc/<pid>/statm) before the slow stream opened",
    ("process_stream", "rss_parent_peak"): "parent's largest VmRSS sample (every 10 ms) during the slow stream",
    ("process_stream", "rss_parent_end"): "parent's VmRSS after the last item of the slow stream",
    ("process_stream", "rss_child_start"): "producer's VmRSS before the slow stream opened",
    ("process_stream", "rss_child_peak"): "producer's largest VmRSS sample during the slow stream",
    ("process_stream", "rss_child_end"): "producer's VmRSS after the last item",
    ("process_stream", "rss_growth"): "the larger of the two processes' peak - start during the slow stream",
    ("context_pingpong", "mean"): "portal.open_context once, then 10k `co_await ctx.send(int)` + "
                                  "`co_await ctx.receive<int>()` against a callee echoing each, in 20 blocks "
                                  "alternating with the floor's: a raw round trip of yield-frame size",
    ("context_pingpong", "p50"): "the same round trips: median",
    ("context_pingpong", "p99"): "the same round trips: 99th percentile",
    ("context_pingpong", "cpu_per_round_trip"): "CPU of both processes over its round trips / round trips",
    ("context_pingpong", "item_bytes"): "floor: the bytes it writes and reads back, the size of a yield frame",
})
# The remote-actor rows (bench_remote_actors: troupe and its floor from the same runs;
# bench_caf_remote: CAF).
REMOTE_SCENARIOS = ("remote_tell", "remote_ask")
MEASURES.update({
    ("remote_tell", "lost"): "of the n told (1M), how many did not arrive in order (a run with any prints this row "
                             "only and fails)",
    ("remote_tell", "receiver_rate"): "1M ints told to an actor in a child process (troupe: ref.tell from the "
                                      "nursery body; CAF: send from an event-based actor to the io::remote_actor "
                                      "proxy): (n-1) / the time from the first's arrival at the receiving "
                                      "handler to the n-th's, timed there. floor: the same tell frames written "
                                      "64 KiB at a time over a socket pair, the child reading, decoding, "
                                      "checking them",
    ("remote_tell", "to_done_rate"): "the same: n / the time from the first send until the reply to the `done` "
                                     "ask that follows them is back in the sender",
    ("remote_tell", "send_loop_rate"): "the same: n / how long the sending loop took (messages queued, not yet "
                                       "delivered)",
    ("remote_tell", "sender_rss_growth"): "sending process: peak RSS over the run (VmHWM, reset just before the "
                                          "first send) - RSS before the first send",
    ("remote_tell", "sender_rss_end_growth"): "sending process: RSS once the done reply is back - RSS before the "
                                              "first send",
    ("remote_tell", "receiver_rss_growth"): "receiving process: peak RSS over the round (VmHWM, reset at its "
                                            "start) - RSS at its start",
    ("remote_tell", "frame_bytes"): "floor: the size of one tell frame, troupe's post frame of an int",
    ("remote_ask", "mean"): "20k sequential asks of an int that an actor in a child process returns (troupe: "
                            "co_await ref.ask in the nursery body, 20 blocks alternating with the floor's; CAF: "
                            "request(...).then, chained, in an event-based actor): round trip, mean. floor: a raw "
                            "round trip of troupe's frame sizes over a socket pair, blocking write and read on "
                            "both sides",
    ("remote_ask", "p50"): "the same round trips: median",
    ("remote_ask", "p99"): "the same round trips: 99th percentile",
    ("remote_ask", "cpu_per_round_trip"): "CPU of both processes (all threads) over the round trips / round trips "
                                          "(the child's from /proc, 10 ms ticks)",
    ("remote_ask", "request_bytes"): "floor: the bytes it writes, the size of troupe's post frame of an ask",
    ("remote_ask", "reply_bytes"): "floor: the bytes it reads back, the size of troupe's returned frame",
})
# The remote-actor issue's goals: (text, test of troupe's and CAF's values).
REMOTE_GOALS = {
    ("remote_tell", "lost"): ("0 in every run", lambda t, c: bool(t) and max(t) == 0),
    ("remote_tell", "receiver_rate"): ("≥ 5 × CAF", lambda t, c: (ratio(t, c) or 0) >= 5),
    ("remote_tell", "to_done_rate"): ("≥ 5 × CAF", lambda t, c: (ratio(t, c) or 0) >= 5),
    ("remote_tell", "sender_rss_growth"): ("< 1,024 KiB (flat)", lambda t, c: bool(t) and statistics.median(t) < 1024),
    ("remote_ask", "mean"): ("≤ 0.2 × CAF", lambda t, c: ratio(t, c) is not None and ratio(t, c) <= 0.2),
    ("remote_ask", "p99"): ("≤ 0.2 × CAF", lambda t, c: ratio(t, c) is not None and ratio(t, c) <= 0.2),
}

# tractor's own figures on a 2-core machine (medians of runs' medians; early-2020 code, the
# context's from 0.1.0a2), quoted from the tractor study, section 14.3: tractor cannot run here.
TRACTOR_QUOTED = {
    ("process_spawn", "result"): 170.0, ("process_spawn", "reaped"): 670.0,
    ("portal_run", "mean"): 390.0, ("portal_run", "p50"): 340.0, ("portal_run", "p99"): 760.0,
    ("process_stream", "rate"): 29_000.0,
    ("context_pingpong", "mean"): 233.0, ("context_pingpong", "p99"): 385.0,
}
# The process-actor issue's goals: (text, test of troupe's median and troupe/floor).
PROCESS_GOALS = {
    ("process_spawn", "result"): ("≤ 5 ms", lambda t, r: t <= 5.0),
    ("portal_run", "mean"): ("≤ 1.5 × floor", lambda t, r: r is not None and r <= 1.5),
    ("process_stream", "rate"): ("≥ 2 M items/s", lambda t, r: t >= 2e6),
    ("process_stream", "rss_growth"): ("< 1,024 KiB (flat)", lambda t, r: t < 1024),
}

# Rows measured for insight only: no goal applies to them.
INFO_ROWS = {
    ("mailbox", "enqueue_rate"), ("mailbox", "drain_rate"), ("pairs", "first_done_at"),
    # The asynchronous-actor rows: measured side by side where CAF has the feature, no goal.
    ("skynet", "total"), ("skynet", "all_ended"), ("skynet", "shutdown_returned"), ("skynet", "sum_ok"),
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
    if not values:
        return "n/a"
    return f"{fmt(statistics.median(values))} ({fmt(min(values))}–{fmt(max(values))})"


def ratio(a, b):
    """Median of a / median of b, or None where either is missing."""
    if not a or not b or statistics.median(b) == 0:
        return None
    return statistics.median(a) / statistics.median(b)


def fmt_ratio(r):
    return f"{r:.3g}" if r is not None else "—"


def goal(key, unit, r, troupe_median):
    if key in INFO_ROWS:
        return "info", "—"
    text = "≥ 3" if higher_is_better(unit) else "≤ 0.33"
    met = r is not None and (r >= 3 if higher_is_better(unit) else r <= 1 / 3)
    limit = ABSOLUTE_LIMITS.get(key)
    if limit is not None:
        text += f" and < {limit:.0f} {unit}"
        met = met and troupe_median is not None and troupe_median < limit
    return text, "yes" if met else "**no**"


def read(path):
    values = {}  # (scenario, metric) -> {"unit": unit, "troupe": [...], "caf": [...], "floor": [...]}
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) != 5 or parts[0] not in FRAMEWORKS:
                continue
            framework, scenario, metric, value, unit = parts
            row = values.setdefault((scenario, metric), {"unit": unit, **{fw: [] for fw in FRAMEWORKS}})
            row[framework].append(float(value))
    return values


def process_table(rows):
    print("\nProcess actors (bench_processes: troupe and its floor from the same runs; tractor's figures "
          "quoted, not measured here):\n")
    print("| scenario | metric | unit | what it measures | troupe median (min–max) | floor median (min–max) | "
          "troupe/floor | tractor (quoted) | troupe/tractor | goal | met |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for key, row in rows.items():
        troupe, floor_values, unit = row["troupe"], row["floor"], row["unit"]
        vs_floor = ratio(troupe, floor_values)
        quoted = TRACTOR_QUOTED.get(key)
        vs_tractor = statistics.median(troupe) / quoted if troupe and quoted else None
        goal_text, met = "info", "—"
        if key in PROCESS_GOALS and troupe:
            goal_text, test = PROCESS_GOALS[key]
            met = "yes" if test(statistics.median(troupe), vs_floor) else "**no**"
        print(f"| {key[0]} | {key[1]} | {unit} | {MEASURES.get(key, '(not described)')} | {spread(troupe)} | "
              f"{spread(floor_values)} | {fmt_ratio(vs_floor)} | {fmt(quoted) if quoted else '—'} | "
              f"{fmt_ratio(vs_tractor)} | {goal_text} | {met} |")


def remote_table(rows):
    print("\nActors in other processes (bench_remote_actors: troupe and its floor from the same runs; "
          "bench_caf_remote: CAF 0.17's libcaf_io remote actors, run interleaved with it):\n")
    print("| scenario | metric | unit | what it measures | troupe median (min–max) | CAF median (min–max) | "
          "floor median (min–max) | troupe/CAF | troupe/floor | goal | met |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for key, row in rows.items():
        troupe, caf, floor_values = row["troupe"], row["caf"], row["floor"]
        goal_text, met = "info", "—"
        if key in REMOTE_GOALS:
            goal_text, test = REMOTE_GOALS[key]
            met = "yes" if test(troupe, caf) else "**no**"
        print(f"| {key[0]} | {key[1]} | {row['unit']} | {MEASURES.get(key, '(not described)')} | {spread(troupe)} | "
              f"{spread(caf)} | {spread(floor_values)} | {fmt_ratio(ratio(troupe, caf))} | "
              f"{fmt_ratio(ratio(troupe, floor_values))} | {goal_text} | {met} |")


def main(path):
    values = read(path)
    process_rows = {k: r for k, r in values.items() if k[0] in PROCESS_SCENARIOS}
    remote_rows = {k: r for k, r in values.items() if k[0] in REMOTE_SCENARIOS}
    values = {k: r for k, r in values.items() if k[0] not in PROCESS_SCENARIOS + REMOTE_SCENARIOS}
    framework_rows = {k: r for k, r in values.items() if r["troupe"] or r["caf"]}
    floor_rows = {k: r for k, r in values.items() if not (r["troupe"] or r["caf"])}

    if framework_rows:
        print("| scenario | metric | unit | what it measures | troupe median (min–max) | CAF median (min–max) | "
              "floor median (min–max) | troupe/CAF | troupe/floor | goal | met |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for key, row in framework_rows.items():
        troupe, unit = row["troupe"], row["unit"]
        vs_caf = ratio(troupe, row["caf"])
        goal_text, met = goal(key, unit, vs_caf, statistics.median(troupe) if troupe else None)
        print(f"| {key[0]} | {key[1]} | {unit} | {MEASURES.get(key, '(not described)')} | {spread(troupe)} | "
              f"{spread(row['caf'])} | {spread(row['floor'])} | {fmt_ratio(vs_caf)} | "
              f"{fmt_ratio(ratio(troupe, row['floor']))} | {goal_text} | {met} |")

    if floor_rows:
        print("\nRows only the floor (bench_floor: bare threads, no framework) has:\n")
        print("| scenario | metric | unit | what it measures | floor median (min–max) |")
        print("| --- | --- | --- | --- | --- |")
        for key, row in floor_rows.items():
            print(f"| {key[0]} | {key[1]} | {row['unit']} | {MEASURES.get(key, '(not described)')} | "
                  f"{spread(row['floor'])} |")

    if process_rows:
        process_table(process_rows)

    if remote_rows:
        remote_table(remote_rows)

    print("\nRatios divide medians. troupe/CAF and troupe/floor below 1 mean troupe took less (time, size, "
          "CPU rows) and, for /s rows, reached less; troupe/floor is how many times the floor's cost troupe "
          "pays (time rows) or the share of the floor's rate it reaches (/s rows).")
    everything = {**values, **process_rows, **remote_rows}
    runs = {fw: sorted({len(r[fw]) for r in everything.values() if r[fw]}) for fw in FRAMEWORKS}
    print("runs per cell: " + "; ".join(f"{fw} {', '.join(map(str, n))}" for fw, n in runs.items() if n) +
          f"; raw values: {path}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: report.py <results file from bench/run.sh>")
    main(sys.argv[1])
