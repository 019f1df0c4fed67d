"""Compares a run with the previous results file: one ratio per headline figure."""

import glob
import json
import os

# scenario -> [(label, path into the result, True when higher is better)]
HEADLINES = {
    "connect": [("RSS/connection (B)", ("rss_per_connection_bytes",), False),
                ("joins/s", ("joins_per_s",), True),
                ("broadcast reach, slowest (s)", ("broadcast", "reach_max_s"), False)],
    "fanout": [("deliveries/s", ("deliveries_per_s",), True),
               ("p99 (µs)", ("latency", "p99_us"), False)],
    "echo": [("replies/s", ("replies_per_s",), True),
             ("p99 (µs)", ("latency", "p99_us"), False)],
    "churn": [("joins/s", ("joins_per_s",), True),
              ("presence lag p99 (µs)", ("presence_lag", "p99_us"), False)],
    "capacity": [("clients under the limit", ("capacity",), True)],
    "heal": [("presence healed in (s)", ("heal_convergence_s",), False)],
    "_cpu": [("server CPU µs/msg", ("cpu", "server_cpu_us_per_msg"), False)],
}


def previous_results(results_dir, current_path, mode):
    """(file name, results) of the newest older run of the same mode (full or smoke), or None."""
    files = sorted((f for f in glob.glob(os.path.join(results_dir, "*.json"))
                    if os.path.basename(f) < os.path.basename(current_path)), reverse=True)
    for path in files:
        try:
            with open(path) as f:
                results = json.load(f)
        except (OSError, ValueError):
            continue
        if results.get("mode") == mode:
            return os.path.basename(path), results
    return None


def dig(value, path):
    """The number at `path` (keys) inside `value`, or None."""
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def rows(current, previous):
    """[(run, label, previous value, current value, ratio, better?)] for runs in both files."""
    before = {run["name"]: run for run in previous.get("runs", [])}
    out = []
    for run in current.get("runs", []):
        old = before.get(run["name"])
        if not old or not run.get("result") or not old.get("result"):
            continue
        for label, path, higher_better in HEADLINES.get(run["scenario"], []) + HEADLINES["_cpu"]:
            a, b = dig(old["result"], path), dig(run["result"], path)
            if not a or not b:  # missing, or too short to register (CPU ticks are 10 ms)
                continue
            ratio = b / a
            out.append((run["name"], label, a, b, ratio, (ratio >= 1) == higher_better))
    return out
