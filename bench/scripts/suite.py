"""bench/run: builds, starts the servers, runs the scenarios, writes results and the report."""

import argparse
import datetime
import json
import os
import subprocess
import sys
import time

import compare
import machine
import plan
import quiet
from report import Report
from server import BUILD_TARGETS, ManagedCluster, ManagedServer, build

BENCH_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(BENCH_DIR)


def log(message):
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def parse_args():
    p = argparse.ArgumentParser(prog="bench/run", description=(
        "Runs the beryl-cpp benchmark suite and writes bench/results/<timestamp>.json and .md."))
    p.add_argument("--smoke", action="store_true",
                   help="tiny sizes, well under a minute: proves every scenario works")
    p.add_argument("--url", help="benchmark an already running Phoenix-compatible server at this "
                                 "ws:// URL (loopback only) instead of starting beryl-server; "
                                 "the yardstick, --no-metrics and TLS runs are left out")
    p.add_argument("--server-pid", type=int,
                   help="with --url: the server's pid, to measure its RSS and CPU")
    p.add_argument("--build-dir", default=os.path.join(REPO, "build-bench"),
                   help="CMake build directory (default: build-bench at the repo root)")
    p.add_argument("--results-dir", default=os.path.join(BENCH_DIR, "results"),
                   help="where results and reports go (default: bench/results)")
    p.add_argument("--only", help="comma-separated run names to keep (e.g. echo-50,capacity)")
    p.add_argument("--no-build", action="store_true", help="use the binaries already built")
    p.add_argument("--quiet-wait", type=float, default=None, metavar="S",
                   help="seconds to wait before each run for other processes to go quiet "
                        "(default: 30, or 0 with --smoke)")
    return p.parse_args()


def run_loadgen(loadgen, scenario, args, urls, server_pids, timeout_s):
    """urls and server_pids: one server, or the nodes of a cluster (server_pids may be empty)."""
    cmd = [loadgen, scenario, *args, "--timeout", str(timeout_s)]
    for url in urls:
        cmd += ["--url", url]
    for pid in server_pids:
        cmd += ["--server-pid", str(pid)]
    log("$ " + " ".join(os.path.relpath(c, REPO) if c == loadgen else c for c in cmd))
    started = time.monotonic()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True,
                          timeout=timeout_s + 60)  # the generator stops itself before this
    record = {"command": cmd[1:], "exit_code": proc.returncode,
              "elapsed_s": round(time.monotonic() - started, 2)}
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode == 0 and lines:
        record["result"] = json.loads(lines[-1])
    else:
        record["error"] = f"load generator exited with {proc.returncode}"
    return record


def problems_of(run):
    """Correctness problems only: the suite never fails on a performance figure."""
    name, r = run["name"], run.get("result")
    if not r:
        return [f"{name}: {run.get('error', 'no result')}"]
    out = []
    if run.get("server_exit") is not None:
        out.append(f"{name}: the server exited during the run (code {run['server_exit']})")
    if r.get("timed_out"):
        out.append(f"{name}: hit its deadline")
    scenario = run["scenario"]
    broadcast = r.get("broadcast")
    if broadcast:
        for key in ("lost", "duplicated", "out_of_order"):
            if broadcast[key]:
                out.append(f"{name}: {broadcast[key]:,} broadcast deliveries "
                           f"{key.replace('_', ' ')}")
    if scenario == "fanout":
        for key in ("lost", "duplicated", "out_of_order", "malformed", "connections_lost",
                    "join_failures"):
            if r[key]:
                out.append(f"{name}: {r[key]:,} {key.replace('_', ' ')}")
    elif scenario == "connect":
        if r["joined"] < r["connections"]:
            out.append(f"{name}: only {r['joined']:,} of {r['connections']:,} connections joined")
    elif scenario == "echo":
        for key in ("unanswered", "connections_lost", "join_failures"):
            if r[key]:
                out.append(f"{name}: {r[key]:,} {key.replace('_', ' ')}")
    elif scenario == "churn":
        keys = ["connect_failures", "join_errors", "connections_lost"]
        if not r.get("skipped"):
            keys += ["missing_joins", "missing_leaves"]
        for key in keys:
            if r[key]:
                out.append(f"{name}: {r[key]:,} {key.replace('_', ' ')}")
    elif scenario == "room":
        storm = r["storm"]
        if storm["failed"] or storm["joined"] < storm["members"]:
            out.append(f"{name}: {storm['joined']:,} of {storm['members']:,} members joined")
        if r["connections_lost"]:
            out.append(f"{name}: {r['connections_lost']:,} connections lost")
        probes = r.get("probes")
        if probes:
            for key in ("join_errors", "unreached"):
                if probes[key]:
                    out.append(f"{name}: {probes[key]:,} probe {key.replace('_', ' ')}")
    elif scenario == "heal":
        for key in ("join_failures", "connections_lost"):
            if r[key]:
                out.append(f"{name}: {r[key]:,} {key.replace('_', ' ')}")
        if not r["converged"]:
            out.append(f"{name}: presence did not converge after the partition healed "
                       f"(members seen per node: {r['members_seen_per_node']})")
    elif scenario == "capacity" and not r["steps"]:
        out.append(f"{name}: no step completed ({r['stopped_because']})")
    return out


def main():
    args = parse_args()
    mode = "smoke" if args.smoke else "full"
    os.makedirs(args.results_dir, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = os.path.join(args.results_dir, stamp)
    loadgen = os.path.join(args.build_dir, "bench", "beryl-loadgen")

    if not args.no_build:
        try:
            build(REPO, args.build_dir, ["beryl-loadgen"] if args.url else BUILD_TARGETS, log)
        except subprocess.CalledProcessError as e:
            log(f"build failed ({e}); nothing was run")
            return 2

    runs = plan.runs(args.smoke)
    if args.only:
        keep = set(args.only.split(","))
        runs = [r for r in runs if r.name in keep]
        if not runs:
            sys.exit(f"bench/run: no run named {args.only}; see bench/scripts/plan.py")

    results = {
        "timestamp": stamp,
        "mode": mode,
        "commit": machine.git_commit(REPO),
        "machine": machine.describe(),
        "server": {"description": f"external server at {args.url}" if args.url else
                   "beryl-server (Release), restarted for each run (beryl-yardstick for the "
                   "yardstick runs, three clustered nodes for the cluster runs)",
                   "url": args.url, "pid": args.server_pid},
        "runs": [],
    }
    os.makedirs(base, exist_ok=True)  # charts and the server logs
    server = None if args.url else ManagedServer(args.build_dir, base)
    cluster = None if args.url else ManagedCluster(args.build_dir, base)
    if args.url:
        # The yardstick, --no-metrics, TLS and cluster runs need the servers this suite starts.
        runs = [r for r in runs if r.server == "beryl"]

    quiet_wait = args.quiet_wait if args.quiet_wait is not None else (0 if args.smoke else 30)
    for spec in runs:
        log(f"run {spec.name}")
        run = {"name": spec.name, "scenario": spec.scenario,
               "server": "external" if args.url else spec.server}
        if spec.versus:
            run["versus"] = spec.versus
        if quiet_wait > 0:
            run["busy_before_pct"] = round(quiet.wait_for_quiet(quiet_wait, log), 1)
        managed = cluster if spec.server == "cluster" else server
        try:
            if managed:
                managed.start("beryl" if managed is cluster else spec.server, spec.server_args)
            urls = managed.urls if managed else [args.url]
            pids = managed.pids if managed else [p for p in [args.server_pid] if p]
            loadgen_args = list(spec.args)
            if spec.scenario == "heal":  # the node to partition: one this suite started
                loadgen_args += ["--pause-pid", str(pids[-1])]
            run.update(run_loadgen(loadgen, spec.scenario, loadgen_args, urls, pids,
                                   plan.TIMEOUT_S[mode]))
            if managed and not managed.alive():
                run["server_exit"] = managed.stop()
        except (RuntimeError, subprocess.SubprocessError, OSError) as e:
            run["error"] = str(e)
        finally:
            if managed:
                managed.stop()
        results["runs"].append(run)
        for problem in problems_of(run):
            log("problem: " + problem)

    results["load_avg_after"] = list(os.getloadavg())
    results["problems"] = [p for run in results["runs"] for p in problems_of(run)]
    with open(base + ".json", "w") as f:
        json.dump(results, f, indent=1)
    previous = compare.previous_results(args.results_dir, base + ".json", mode)
    report = Report(results, base, *(previous or (None, None))).write()
    log(f"results: {base}.json")
    log(f"report:  {report}")
    print(summary(results))
    return 1 if results["problems"] else 0


def summary(results):
    """One line per run for the terminal; the report has the details."""
    out = []
    width = max((len(run["name"]) for run in results["runs"]), default=0)
    for run in results["runs"]:
        r = run.get("result")
        if not r:
            out.append(f"{run['name']:<{width}} FAILED: {run.get('error')}")
            continue
        out.append(f"{run['name']:<{width}} {headline(run['scenario'], r)}")
    out.append(f"{len(results['problems'])} problem(s)")
    return "\n".join(out)


def headline(scenario, r):
    if scenario == "connect":
        rss = r["rss_per_connection_bytes"]
        text = (f"{r['joined']:,} joined, {r['joins_per_s']:,.0f} joins/s, "
                f"RSS/conn {'–' if rss is None else f'{rss:,.0f} B'}")
        broadcast = r.get("broadcast")
        if broadcast:
            text += (f"; {broadcast['count']} broadcasts reached all in ≤ "
                     f"{broadcast['reach_max_s'] * 1000:,.0f} ms, lost {broadcast['lost']}")
        return text
    if scenario == "fanout":
        return (f"{r['deliveries_per_s']:,.0f} deliveries/s, p99 {r['latency']['p99_us'] / 1000:.2f} ms, "
                f"lost {r['lost']} dup {r['duplicated']} ooo {r['out_of_order']}")
    if scenario == "echo":
        return f"{r['replies_per_s']:,.0f} replies/s, p99 {r['latency']['p99_us'] / 1000:.3f} ms"
    if scenario == "churn":
        if r.get("skipped"):
            return f"{r['joins_per_s']:,.0f} joins/s, presence skipped: {r['skipped']}"
        return (f"{r['joins_per_s']:,.0f} joins/s, presence lag p99 "
                f"{r['presence_lag']['p99_us'] / 1000:.2f} ms")
    if scenario == "room":
        storm = r["storm"]
        text = (f"{storm['joins_per_s']:,.0f} joins/s into {storm['members']:,}, "
                f"p99 {storm['join_latency']['p99_us'] / 1000:.1f} ms")
        if "state_latency" in storm:
            text += (f" (with presence_state: {storm['ready_per_s']:,.0f}/s, "
                     f"p99 {storm['state_latency']['p99_us'] / 1000:.1f} ms)")
        probes = r.get("probes")
        if probes and probes["diff_reach"]["count"]:
            text += (f"; probe join p99 {probes['join_latency']['p99_us'] / 1000:.1f} ms, "
                     f"diff reach max {probes['diff_reach']['max_us'] / 1000:.1f} ms")
        return text
    if scenario == "capacity":
        return f"capacity {r['capacity']:,} clients ({r['stopped_because']})"
    if scenario == "heal":
        healed = r["heal_convergence_s"]
        return (f"{r['members']:,} members on {r['nodes']} nodes: partition seen after "
                f"{r['partition_s']:.2f} s, healed in "
                f"{'–' if healed is None else f'{healed * 1000:,.0f} ms'}, "
                f"relapses {r['relapses']}")
    return ""


if __name__ == "__main__":
    sys.exit(main())
