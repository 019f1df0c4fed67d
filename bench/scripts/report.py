"""Writes the Markdown report and its SVG charts for one results file."""

import os

import compare
import limits
import svg
from targets import TARGETS


def _num(v, digits=0):
    if v is None:
        return "–"
    if isinstance(v, float) and digits == 0 and abs(v) < 10 and v != int(v):
        digits = 2
    return f"{v:,.{digits}f}"


def _ms(us):
    return "–" if us is None else f"{us / 1000:,.2f}"


def _kb(bytes_):
    return "–" if bytes_ is None else f"{bytes_ / 1024:,.1f}"


def _measured(value, unit):
    if value is None:
        return "–"
    if unit == "µs":
        return f"{value / 1000:,.2f} ms"
    if unit == "B":
        return f"{value:,.0f} B"
    if unit == "ratio":
        return f"{100 * value:.1f} %"
    if unit == "×":
        return f"{value:.2f}×"
    return f"{value:,.0f}{unit}"


def _by_name(results):
    return {run["name"]: run for run in results["runs"]}


def _by_scenario(results, scenario):
    """The runs of a scenario with a result, but not the yardstick's or the cluster's: they have
    their own sections."""
    return [run for run in results["runs"] if run["scenario"] == scenario and run.get("result")
            and run.get("server") not in ("yardstick", "cluster")]


def _by_server(results, server):
    return [run for run in results["runs"] if run.get("server") == server and run.get("result")]


# scenario -> [(figure, path into the result, format)] that the TLS and yardstick sections set
# beside the same figure of another run; connect's are per step.
_FIGURES = {
    "connect": [("RSS/connection B", ("rss_per_connection_bytes",), _num),
                ("joins/s", ("joins_per_s",), _num)],
    "fanout": [("deliveries/s", ("deliveries_per_s",), _num),
               ("p99 ms", ("latency", "p99_us"), _ms)],
    "echo": [("replies/s", ("replies_per_s",), _num), ("p99 ms", ("latency", "p99_us"), _ms)],
    "churn": [("joins/s", ("joins_per_s",), _num)],
    "room": [("storm joins/s", ("storm", "joins_per_s"), _num),
             ("storm join p99 ms", ("storm", "join_latency", "p99_us"), _ms)],
    "capacity": [("capacity clients", ("capacity",), _num)],
}


def _side_by_side(scenario, a, b):
    """[(figure, value in result a, value in result b, format)]; either result may be None.
    Connect's figures come at every step both runs reached."""
    pairs = [("", a, b)]
    if scenario == "connect":
        steps_a, steps_b = ({s["connections"]: s for s in (r or {}).get("steps", [])}
                            for r in (a, b))
        both = sorted(steps_a.keys() & steps_b.keys())
        pairs = [(f" at {n:,}", steps_a[n], steps_b[n]) for n in both]
    return [(label + at, compare.dig(x, path), compare.dig(y, path), fmt)
            for at, x, y in pairs for label, path, fmt in _FIGURES.get(scenario, [])]


class Report:
    def __init__(self, results, base_path, previous_name=None, previous=None):
        self.results = results
        self.base = base_path  # bench/results/<timestamp>: .md beside it, charts inside it
        self.previous = previous
        self.previous_name = previous_name
        self.cores = results["machine"]["cores"] or 1
        self.lines = []

    def write(self):
        self._header()
        self._targets()
        self._cpu_split()
        self._connect()
        self._fanout()
        self._echo()
        self._churn()
        self._room()
        self._capacity()
        self._yardstick()
        self._counting_cost()
        self._tls()
        self._cluster()
        self._comparison()
        self._problems()
        path = self.base + ".md"
        with open(path, "w") as f:
            f.write("\n".join(self.lines) + "\n")
        return path

    def _add(self, *lines):
        self.lines.extend(lines)

    def _chart(self, name, svg_text, alt):
        """Writes <base>/<name>.svg beside <base>.md and links it."""
        if not svg_text:
            return
        os.makedirs(self.base, exist_ok=True)
        with open(os.path.join(self.base, name + ".svg"), "w") as f:
            f.write(svg_text)
        self._add(f"![{alt}]({os.path.basename(self.base)}/{name}.svg)", "")

    def _header(self):
        r, m = self.results, self.results["machine"]
        server = r["server"]
        self._add(f"# beryl-cpp benchmark, {r['timestamp']} ({r['mode']} run)", "",
                  f"* **Server:** {server['description']}, commit `{r['commit']}`",
                  f"* **Machine:** {m['cpu_model']}, {m['cores']} cores, {m['memory_gib']} GiB, "
                  f"Linux {m['kernel']}",
                  f"* **Load average** (1/5/15 min) before: "
                  f"{' / '.join(f'{x:.2f}' for x in m['load_avg'])}, after: "
                  f"{' / '.join(f'{x:.2f}' for x in r['load_avg_after'])}",
                  "* Server and load generator share the same cores over loopback, so every "
                  "figure is a split of the same CPUs; the tables below say which side was busy.")
        busy = [(run["name"], run["result"]["cpu"].get("other_processes_cpu_pct", 0))
                for run in r["runs"] if run.get("result") and run["result"].get("cpu")]
        busy = [(name, pct) for name, pct in busy if pct >= limits.BUSY_MACHINE_PCT]
        if busy:
            self._add("* **Warning: the machine was not idle.** Other processes took CPU during "
                      + ", ".join(f"{name} ({pct:.0f} % of a core)" for name, pct in busy)
                      + "; those figures understate the server.")
        self._add("")

    def _targets(self):
        by_name = _by_name(self.results)
        if not any(run in by_name for _, run, *_ in TARGETS):
            self._add("## Against the targets", "", "The targets apply to the full run's sizes.", "")
            return
        self._add("## Against the targets", "",
                  "| figure | target | measured | | what limited it |", "|---|---|---|---|---|")
        for label, run, measured, ok, target, unit in TARGETS:
            if run not in by_name:
                continue
            value = measured(by_name)
            status = "–" if value is None else ("meets" if ok(value) else "**misses**")
            result = by_name[run].get("result")
            limit = limits.verdict(result, self.cores) if result else "no result"
            if result and result.get("skipped"):
                limit = "skipped: " + result["skipped"]
            self._add(f"| {label} | {target} | {_measured(value, unit)} | {status} | {limit} |")
        self._add("")

    def _cpu_split(self):
        self._add("## CPU split per run", "",
                  "CPU percentages are of one core; the machine has "
                  f"{self.cores}. \"Network softirq\" is kernel time spent on loopback packets that "
                  "/proc charges to no process (the benchmark's own traffic). \"Other processes\" "
                  "is the rest of the machine's busy time (/proc/stat) minus server and generator: "
                  "anything else running skews the figures. Server CPU per message divides the server's CPU time by the "
                  "scenario's unit of work (a join, a delivery, a reply); KB/msg likewise "
                  "divides the frame bytes the generator received (one generator process: its own "
                  "share).", "",
                  "| run | wall s | server CPU | generator CPU per process (processes) | "
                  "network softirq | other processes | server µs/msg | KB/msg received | load avg | "
                  "limited by |",
                  "|---|---|---|---|---|---|---|---|---|---|")
        for run in self.results["runs"]:
            result = run.get("result")
            if not result or not result.get("cpu"):
                self._add(f"| {run['name']} | – | – | – | – | – | – | – | – | "
                          f"{run.get('error', 'no result')} |")
                continue
            cpu = result["cpu"]
            server = cpu.get("server_cpu_pct")
            self._add(
                f"| {run['name']} | {_num(cpu['wall_s'], 2)} | "
                f"{'–' if server is None else f'{server:.0f} %'} | "
                f"{cpu['generator_cpu_pct_per_process']:.0f} % ({cpu['generator_processes']}) | "
                f"{cpu.get('softirq_cpu_pct', 0):.0f} % | "
                f"{cpu.get('other_processes_cpu_pct', 0):.0f} % | "
                f"{_num(cpu.get('server_cpu_us_per_msg'), 2)} | {_kb(cpu.get('received_bytes_per_msg'))} | "
                f"{cpu['load_avg_1m']:.2f} | "
                f"{limits.verdict(result, self.cores)} |")
        self._add("")

    def _connect(self):
        runs = _by_scenario(self.results, "connect")
        if not runs:
            return
        self._add("## connect: idle joined connections", "",
                  "RSS per connection = (server VmRSS − VmRSS before the first connection) / "
                  "connections. Joins/s and join latency are per step (the connections it added), from the "
                  "first TCP connect of a step to its last join reply, with at most 256 handshakes "
                  "in flight per generator process.", "",
                  "| run | connections | processes | joins/s | join p50 ms | join p99 ms | "
                  "server RSS MB | RSS/connection B |", "|---|---|---|---|---|---|---|---|")
        series = []
        for run in runs:
            r = run["result"]
            for step in r["steps"]:
                rss = step["rss_bytes"]
                self._add(f"| {run['name']} | {step['connections']:,} | {r['processes']} | "
                          f"{_num(step['joins_per_s'])} | {_ms(step['join_latency']['p50_us'])} | "
                          f"{_ms(step['join_latency']['p99_us'])} | "
                          f"{'–' if rss is None else f'{rss / 1e6:,.1f}'} | "
                          f"{_num(step['rss_per_connection_bytes'])} |")
            pts = [(s["connections"], s["rss_bytes"] / 1e6) for s in r["steps"]
                   if s["rss_bytes"] is not None]
            if len(pts) > 1:
                series.append((run["name"], pts))
        self._add("")
        self._chart("memory", svg.line_chart("Server memory vs connections", "idle joined connections",
                                             "server RSS (MB)", series), "memory vs connections")

    def _fanout(self):
        runs = _by_scenario(self.results, "fanout")
        if not runs:
            return
        self._add("## fanout: one publisher, many subscribers", "",
                  "Latency runs from the publisher's send (timestamp in the payload) to each "
                  "subscriber's receipt. Lost = expected deliveries that never arrived (the run "
                  "waits until deliveries stop for 3 s).", "",
                  "| run | subscribers | offered msg/s | achieved msg/s | offered deliveries/s | "
                  "deliveries/s | p50 ms | p90 ms | p99 ms | max ms | lost | dup | out of order |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        offered, achieved, cdfs = [], [], []
        for run in runs:
            r = run["result"]
            lat = r["latency"]
            self._add(f"| {run['name']} | {r['subscribers']:,} | {_num(r['offered_rate'])} | "
                      f"{_num(r['achieved_rate'])} | {_num(r['offered_rate'] * r['subscribers'])} | "
                      f"{_num(r['deliveries_per_s'])} | {_ms(lat['p50_us'])} | {_ms(lat['p90_us'])} | "
                      f"{_ms(lat['p99_us'])} | {_ms(lat['max_us'])} | {r['lost']:,} | "
                      f"{r['duplicated']:,} | {r['out_of_order']:,} |")
            offered.append((r["offered_rate"] * r["subscribers"], r["offered_rate"] * r["subscribers"]))
            achieved.append((r["offered_rate"] * r["subscribers"], r["deliveries_per_s"]))
            if lat["count"]:
                cdfs.append((run["name"], svg.cdf_points(lat)))
        self._add("")
        if len(runs) > 1:
            self._chart("throughput", svg.line_chart(
                "Fanout throughput vs offered rate", "offered deliveries/s", "deliveries/s",
                [("measured", achieved), ("offered", offered)]), "throughput vs offered rate")
        echo = _by_scenario(self.results, "echo")
        cdfs += [(run["name"], svg.cdf_points(run["result"]["latency"])) for run in echo
                 if run["result"]["latency"]["count"]]
        self._chart("latency", svg.line_chart("Latency distribution (CDF)", "latency (ms, log)",
                                              "% of messages at or below", cdfs, log_x=True),
                    "latency distribution")

    def _echo(self):
        runs = _by_scenario(self.results, "echo")
        if not runs:
            return
        self._add("## echo: closed request/reply loop", "",
                  "Each client sends a ping and waits for its reply before the next; a warm-up "
                  "of up to 1 s is not counted.", "",
                  "| run | clients | replies/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | "
                  "unanswered |", "|---|---|---|---|---|---|---|---|---|")
        for run in runs:
            r = run["result"]
            lat = r["latency"]
            self._add(f"| {run['name']} | {r['clients']} | {_num(r['replies_per_s'])} | "
                      f"{_ms(lat['p50_us'])} | {_ms(lat['p90_us'])} | {_ms(lat['p99_us'])} | "
                      f"{_ms(lat['p999_us'])} | {_ms(lat['max_us'])} | {r['unanswered']} |")
        self._add("")

    def _churn(self):
        runs = _by_scenario(self.results, "churn")
        if not runs:
            return
        self._add("## churn: joining and leaving a presence topic", "",
                  "Clients join the topic, stay the dwell time (0: leave as soon as the join is "
                  "acknowledged) and leave. On `presence:*` presence is tracked and nothing else; "
                  "`room:*`, the demo chat, also broadcasts `left` to every member per leave; "
                  "`bench:*` has no presence and is the baseline. "
                  "Presence lag is the time from a client's phx_join (phx_leave) to an observer "
                  "seeing its key in a presence_diff's joins (leaves). A join and leave that the "
                  "server folded into one batched diff (so neither shows) count as coalesced; "
                  "seeing only one half of a pair is an error (missing).", "",
                  "| run | topic | clients | dwell ms | offered joins/s | joins/s | join p99 ms | "
                  "diffs | lag p50 ms | lag p99 ms | lag max ms | coalesced pairs | missing |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        join_cdfs, lag_cdfs = [], []
        for run in runs:
            r = run["result"]
            if r["join_latency"]["count"]:
                join_cdfs.append((run["name"], svg.cdf_points(r["join_latency"])))
            offered = "unpaced" if not r["offered_rate"] else _num(r["offered_rate"])
            joins = (f"| {run['name']} | `{r.get('topic', 'presence:churn')}` | {r['clients']} | "
                     f"{_num(r.get('dwell_ms', 0))} | {offered} | {_num(r['joins_per_s'])} | "
                     f"{_ms(r['join_latency']['p99_us'])} | ")
            if r.get("skipped"):
                self._add(joins + f"0 | no presence ({r['skipped']}) | | | | |")
                continue
            lag = r["presence_lag"]
            self._add(joins + f"{r['presence_diffs']:,} | "
                      f"{_ms(lag['p50_us'])} | {_ms(lag['p99_us'])} | {_ms(lag['max_us'])} | "
                      f"{r['coalesced_pairs']:,} | {r['missing_joins'] + r['missing_leaves']} |")
            if lag["count"]:
                lag_cdfs.append((run["name"], svg.cdf_points(lag)))
        self._add("")
        self._chart("churn-joins", svg.line_chart(
            "Join latency under churn (CDF)", "phx_join to its reply (ms, log)",
            "% of joins at or below", join_cdfs, log_x=True), "churn join latency")
        self._chart("churn-lag", svg.line_chart(
            "Presence lag under churn (CDF)",
            "phx_join or phx_leave to the observer's diff (ms, log)", "% of changes at or below",
            lag_cdfs, log_x=True), "churn presence lag")

    def _room(self):
        runs = _by_scenario(self.results, "room")
        if not runs:
            return
        self._add("## room: one big room", "",
                  "A storm: every member connects and joins one topic at once (256 handshakes in "
                  "flight); join latency runs from the TCP connect to the join reply. On a "
                  "presence topic a member also waits for its presence_state: ready/s counts "
                  "members with their state per second, state latency runs from the connect to "
                  "it. With several "
                  "storms (each on a fresh topic and connections), joins/s is the median storm's "
                  "(every storm's rate in the \"storms\" column) and the latencies are all "
                  "storms' (each storm's join p99 in \"storm p99s\"). Then probes "
                  "join the full room one at a time, stay, and leave: their join latency, and "
                  "their reach, from a probe's phx_join until the last member has a "
                  "presence_diff (or its presence_state) listing it. `bench:*` topics have no "
                  "presence: the baseline. A \"baseline\" row holds the `bench:*` storms that ran "
                  "in the same run, one before each storm on the presence topic.", "",
                  "| run | topic | members | joins/s | storms | join p50 ms | join p99 ms | "
                  "storm p99s ms | ready/s | state p99 ms | probes | "
                  "probe join p99 ms | reach p50 ms | reach p99 ms | reach max ms | unreached |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        storms, reaches = [], []
        for run in runs:
            r = run["result"]
            self._room_row(run["name"], r["topic"], r["storm"], r.get("probes"), storms, reaches)
            if "baseline" in r:
                baseline = r["baseline"]
                self._room_row(f"{run['name']} baseline", baseline["topic"], baseline, None,
                               storms, reaches)
        self._add("")
        self._chart("room-joins", svg.line_chart(
            "Join latency in a join storm (CDF)", "connect to join reply (ms, log)",
            "% of joins at or below", storms, log_x=True), "join storm latency")
        self._chart("room-reach", svg.line_chart(
            "Presence diff reach in a full room (CDF)", "phx_join to the last member (ms, log)",
            "% of probes at or below", reaches, log_x=True), "presence diff reach")

    def _room_row(self, name, topic, storm, probes, storms, reaches):
        """The room table's row of one storm set (and its probes); their CDFs for the charts."""
        lat = storm["join_latency"]
        row = (f"| {name} | `{topic}` | {storm['members']:,} | "
               f"{_num(storm['joins_per_s'])} | "
               f"{', '.join(_num(x) for x in storm.get('storms_joins_per_s', []))} | "
               f"{_ms(lat['p50_us'])} | {_ms(lat['p99_us'])} | "
               f"{', '.join(f'{x:.0f}' for x in storm.get('storms_join_p99_ms', []))} | ")
        state = storm.get("state_latency")
        row += (f"{_num(storm['ready_per_s'])} | {_ms(state['p99_us'])} | " if state
                else "– | – | ")
        if probes:
            reach = probes["diff_reach"]
            row += (f"{probes['probes']} | {_ms(probes['join_latency']['p99_us'])} | "
                    f"{_ms(reach['p50_us'])} | {_ms(reach['p99_us'])} | {_ms(reach['max_us'])} | "
                    f"{probes['unreached']} |")
            if reach["count"]:
                reaches.append((name, svg.cdf_points(reach)))
        else:
            row += "– | – | – | – | – | – |"
        self._add(row)
        if lat["count"]:
            storms.append((name, svg.cdf_points(lat)))

    def _versus_rows(self, first, scenario, a, b):
        """A row per figure of results a and b: `first` (the leading cells), a, b, a / b."""
        for figure, x, y, fmt in _side_by_side(scenario, a, b):
            ratio = f"{x / y:.2f}×" if x is not None and y else "–"
            self._add(f"| {first} | {figure} | {fmt(x)} | {fmt(y)} | {ratio} |")

    def _with_versus(self, server):
        """[(run, result of the plain beryl run it is set beside)] for the runs against `server`."""
        by_name = _by_name(self.results)
        return [(run, by_name.get(run["versus"], {}).get("result"))
                for run in _by_server(self.results, server)]

    def _yardstick(self):
        """Each yardstick run against the beryl run just before it: beryl / yardstick."""
        pairs = self._with_versus("yardstick")
        if not pairs:
            return
        self._add("## Against the Beast-only yardstick", "",
                  "The yardstick (`bench/yardstick/`) is a minimal server built only for "
                  "benchmarking: the `bench:*` contract on Boost.Beast and Boost.JSON, the "
                  "libraries beryl-server uses, without the actor framework. Each of its runs (the same "
                  "scenario and arguments) comes right after the beryl run it is set beside, on a "
                  "server started fresh like beryl's; beryl / yardstick above 1 means beryl does "
                  "more (for p99 and RSS, less is better).", "",
                  "| run | figure | beryl | yardstick | beryl / yardstick |",
                  "|---|---|---|---|---|")
        for run, beryl in pairs:
            self._versus_rows(run["versus"], run["scenario"], beryl, run["result"])
        self._add("")

    def _counting_cost(self):
        """Each --no-metrics run against the same run with the counters on: what counting costs."""
        pairs = self._with_versus("beryl-no-metrics")
        if not pairs:
            return
        self._add("## What counting costs: counters on and off", "",
                  "The same server with `--no-metrics` (no per-message counters, no `handle_in` "
                  "timing), right after the run with them on. On / off under 1 is their cost; "
                  "the target is at most 2 % (for p99, less is better).", "",
                  "| run | figure | counters on | counters off | on / off |", "|---|---|---|---|---|")
        for run, counted in pairs:
            self._versus_rows(run["versus"], run["scenario"], counted, run["result"])
        self._add("")

    def _tls(self):
        """Each TLS run against its plain counterpart of the same run: what TLS costs."""
        pairs = self._with_versus("beryl-tls")
        if not pairs:
            return
        self._add("## TLS: the same runs over wss://", "",
                  "The server with `--tls-cert`/`--tls-key` (a P-256 certificate made for the suite), "
                  "the generator on wss:// (TLS 1.3). Each figure beside the plain run's, and TLS / "
                  "plain; RSS per connection at the connection counts both runs reached.", "",
                  "| run | versus | figure | TLS | plain | TLS / plain |", "|---|---|---|---|---|---|")
        for run, plain in pairs:
            self._versus_rows(f"{run['name']} | {run['versus']}", run["scenario"], run["result"],
                              plain)
        self._add("")

    def _cluster(self):
        """The runs against three nodes: fanout beside one node, broadcast reach, presence heal."""
        runs = _by_server(self.results, "cluster")
        if not runs:
            return
        self._add("## Cluster: three nodes on this machine", "",
                  "Three `beryl-server` nodes (`--node`, `--cluster-port`, each seeded with the "
                  "previous one) share the machine's cores with the generator; connection i goes "
                  "to node i mod 3 and the publisher is on node 1, so two thirds of the "
                  "deliveries cross nodes. Server CPU is the three nodes' sum.", "")
        self._cluster_fanout([run for run in runs if run["scenario"] == "fanout"])
        self._cluster_broadcast([run for run in runs if run["scenario"] == "connect"])
        self._cluster_heal([run for run in runs if run["scenario"] == "heal"])

    def _cluster_fanout(self, runs):
        if not runs:
            return
        self._add("**Fanout across nodes.** Set beside one node serving the same subscribers at "
                  "the same rate (on one machine the nodes share its cores, so this compares the "
                  "same work with and without the cluster); cluster / single under 1 is what "
                  "crossing nodes costs.", "",
                  "| run | single node | subscribers | deliveries/s | single deliveries/s | "
                  "cluster / single | p50 ms | p99 ms | single p99 ms | max ms | lost | dup | "
                  "out of order |", "|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        by_name = _by_name(self.results)
        for run in runs:
            r = run["result"]
            single = by_name.get(run.get("versus"), {}).get("result") or {}
            ours, theirs = r["deliveries_per_s"], single.get("deliveries_per_s")
            lat = r["latency"]
            self._add(f"| {run['name']} | {run.get('versus', '–')} | {r['subscribers']:,} | "
                      f"{_num(ours)} | {_num(theirs)} | "
                      f"{f'{ours / theirs:.2f}×' if theirs else '–'} | {_ms(lat['p50_us'])} | "
                      f"{_ms(lat['p99_us'])} | {_ms(compare.dig(single, ('latency', 'p99_us')))} | "
                      f"{_ms(lat['max_us'])} | {r['lost']:,} | {r['duplicated']:,} | "
                      f"{r['out_of_order']:,} |")
        self._add("")

    def _cluster_broadcast(self, runs):
        if not runs:
            return
        self._add("**Broadcast to every connection.** Idle connections joined to one `bench:*` "
                  "topic, spread evenly over the nodes by several generator processes; then "
                  "shouts from node 1, one at a time: reach is the time from the send until the "
                  "last connection (the publisher's included) has it.", "",
                  "| run | connections | processes | joins/s | RSS/connection B (3 nodes) | "
                  "broadcasts | reach ms (each) | lost | dup | out of order |",
                  "|---|---|---|---|---|---|---|---|---|---|")
        for run in runs:
            r = run["result"]
            b = r.get("broadcast") or {"count": 0, "reach_s": [], "lost": "–",
                                       "duplicated": "–", "out_of_order": "–"}
            reach = ", ".join("–" if s is None else f"{s * 1000:,.0f}" for s in b["reach_s"])
            self._add(f"| {run['name']} | {r['joined']:,} | {r['processes']} | "
                      f"{_num(r['joins_per_s'])} | {_num(r['rss_per_connection_bytes'])} | "
                      f"{b['count']} | {reach} | {b['lost']} | {b['duplicated']} | "
                      f"{b['out_of_order']} |")
        self._add("")

    def _cluster_heal(self, runs):
        if not runs:
            return
        self._add("**Presence after a partition heals.** Members join `presence:heal` on every "
                  "node (the first connection on each node also observes); once every node "
                  "shows every member, node 3 is stopped (SIGSTOP) until the other two saw its "
                  "members leave (silent for the presence down period), then continued "
                  "(SIGCONT). Healed = SIGCONT until every observer shows every member again "
                  "(and still does 2 s later); relapses count views that were complete after "
                  "SIGCONT and lost members again.", "",
                  "| run | members | initial convergence ms | partition seen after ms | "
                  "healed in ms | relapses | members seen per node |",
                  "|---|---|---|---|---|---|---|")
        for run in runs:
            r = run["result"]
            healed = r["heal_convergence_s"]
            seen = ", ".join(f"{n:,}" for n in r["members_seen_per_node"])
            self._add(f"| {run['name']} | {r['members']:,} | "
                      f"{r['initial_convergence_s'] * 1000:,.0f} | "
                      f"{r['partition_s'] * 1000:,.0f} | "
                      f"{'**not healed**' if healed is None else f'{healed * 1000:,.0f}'} | "
                      f"{r['relapses']} | {seen} |")
        self._add("")

    def _capacity(self):
        runs = _by_scenario(self.results, "capacity")
        if not runs:
            return
        r = runs[0]["result"]
        self._add("## capacity: clients under a broadcast round-trip limit", "",
                  f"In the style of websocket-shootout: {r['senders']} clients broadcast in a "
                  f"closed loop, {r['sample']} broadcasts per step; a broadcast's round trip ends "
                  "when every client has received it. The search stops when the "
                  f"p{r['limit_percentile']:g} exceeds {r['limit_ms']:g} ms.", "",
                  f"**Capacity: {r['capacity']:,} clients** (stopped: {r['stopped_because']}).", "",
                  "| clients | p50 ms | p95 ms | max ms | deliveries/s | timeouts |",
                  "|---|---|---|---|---|---|")
        for s in r["steps"]:
            self._add(f"| {s['clients']:,} | {s['p50_ms']:.1f} | {s['p95_ms']:.1f} | "
                      f"{s['max_ms']:.1f} | {_num(s['deliveries_per_s'])} | {s['timeouts']} |")
        self._add("")
        pts = [(s["clients"], s["p95_ms"]) for s in r["steps"] if not s["timeouts"]]
        self._chart("capacity", svg.line_chart(
            "Broadcast round trip vs clients", "clients", f"p{r['limit_percentile']:g} round trip (ms)",
            [("p95", pts)], hline=(r["limit_ms"], f"limit {r['limit_ms']:g} ms")),
            "capacity")

    def _comparison(self):
        if not self.previous:
            self._add("## Compared with the previous run", "", "No earlier results file of this mode.", "")
            return
        rows = compare.rows(self.results, self.previous)
        self._add(f"## Compared with the previous run ({self.previous_name})", "",
                  "Ratio = this run / previous run; ✓ marks a change for the better.", "",
                  "| run | figure | previous | now | ratio | |", "|---|---|---|---|---|---|")
        for run, label, before, now, ratio, better in rows:
            self._add(f"| {run} | {label} | {_num(before, 2)} | {_num(now, 2)} | {ratio:.2f} | "
                      f"{'✓' if better else ''} |")
        self._add("")

    def _problems(self):
        problems = self.results["problems"]
        self._add("## Problems", "")
        self._add(*(f"* {p}" for p in problems) if problems else ["None."])
        self._add("")
