"""The runs of the suite: which scenario, with which sizes, for the full run and for --smoke.

Full sizes fit two cores shared by server and generator, 24 GiB and the 20,000 open-files
cap per process, and finish in well under ten minutes. Smoke sizes only prove that every
scenario works end to end.
"""

from collections import namedtuple

# server: "beryl", "beryl-tls" (beryl-server on wss://), "beryl-no-metrics" (beryl-server
# --no-metrics), "yardstick" (bench/yardstick) or "cluster" (three beryl-server nodes);
# versus: the plain beryl run this one is reported beside, None for the plain beryl runs.
# server_args: extra arguments for the server.
Run = namedtuple("Run", "name scenario args server versus server_args")

FULL = [
    # Memory per connection up to the server's own file cap (~19,500 sockets).
    ("connect-19500", "connect",
     ["--connections", "19500", "--steps", "1000,2500,5000,10000,15000,19500"]),
    # Two generator processes: one generator thread alone tops out near the server's join rate
    # (measured: ~11,000/s with one process, ~12,000/s with two on a fresh server).
    ("connect-5000", "connect", ["--connections", "5000", "--per-process", "2500"]),
    # Throughput vs offered rate: 2,000 subscribers, 100 to 1,000 messages/s.
    ("fanout-2000x100", "fanout", ["--connections", "2000", "--rate", "100", "--duration", "10"]),
    # The single node beside cluster-fanout-3x2000x100: the same 6,000 subscribers and rate.
    ("fanout-6000x100", "fanout", ["--connections", "6000", "--rate", "100", "--duration", "10"]),
    ("fanout-2000x250", "fanout", ["--connections", "2000", "--rate", "250", "--duration", "5"]),
    ("fanout-2000x500", "fanout", ["--connections", "2000", "--rate", "500", "--duration", "4"]),
    ("fanout-2000x1000", "fanout", ["--connections", "2000", "--rate", "1000", "--duration", "3"]),
    ("echo-50", "echo", ["--connections", "50", "--duration", "10"]),
    # The demo's chat room (presence, and a "left" broadcast to every member per leave).
    ("churn-50x4000", "churn",
     ["--connections", "50", "--rate", "4000", "--duration", "10", "--topic", "room:churn"]),
    ("churn-50-max", "churn",
     ["--connections", "50", "--rate", "0", "--duration", "5", "--topic", "room:churn"]),
    # Presence at scale on presence:* (presence alone), each beside its presence-free baseline
    # on a bench:* topic (issue 12): 800 clients staying 150 ms per join (and the same in the
    # chat room); a storm of 2,000 joins into one room; probes joining a room of 10,000 members
    # (2 probe joins/s: 4 changes/s), whose diffs must reach every member.
    ("churn-800-dwell150", "churn",
     ["--connections", "800", "--rate", "0", "--duration", "8", "--dwell-ms", "150"]),
    ("churn-800-dwell150-bench", "churn",
     ["--connections", "800", "--rate", "0", "--duration", "8", "--dwell-ms", "150",
      "--topic", "bench:churn"]),
    ("churn-800-dwell150-room", "churn",
     ["--connections", "800", "--rate", "0", "--duration", "8", "--dwell-ms", "150",
      "--topic", "room:churn"]),
    # A storm lasts a fraction of a second: five of each, the median counts. A bench:* storm
    # runs before each presence storm (--baseline-topic): the figure is their ratio, both taken
    # in the same seconds. room-2000-bench, bench:* storms alone, is set beside the yardstick.
    ("room-2000", "room",
     ["--connections", "2000", "--storms", "5", "--baseline-topic", "bench:baseline"]),
    ("room-2000-bench", "room",
     ["--connections", "2000", "--storms", "5", "--topic", "bench:storm"]),
    ("room-10000", "room",
     ["--connections", "10000", "--probes", "10", "--rate", "2", "--duration", "10",
      "--dwell-ms", "300"]),
    ("capacity", "capacity",
     ["--step", "1000", "--max-clients", "19000", "--sample", "40", "--senders", "4"]),
]

SMOKE = [
    ("connect-300", "connect", ["--connections", "300", "--steps", "100,300"]),
    ("fanout-50x50", "fanout", ["--connections", "50", "--rate", "50", "--duration", "1"]),
    ("fanout-60x50", "fanout", ["--connections", "60", "--rate", "50", "--duration", "1"]),
    ("echo-5", "echo", ["--connections", "5", "--duration", "1"]),
    ("churn-5x100", "churn", ["--connections", "5", "--rate", "100", "--duration", "1"]),
    ("churn-20-dwell50", "churn",
     ["--connections", "20", "--rate", "0", "--duration", "1", "--dwell-ms", "50"]),
    ("room-100", "room",
     ["--connections", "100", "--storms", "2", "--baseline-topic", "bench:baseline", "--probes",
      "2", "--rate", "5", "--duration", "1", "--dwell-ms", "100"]),
    ("capacity", "capacity",
     ["--step", "50", "--max-clients", "150", "--sample", "10", "--senders", "2"]),
]

# TLS (issue 14): the server gets a certificate made for the suite, the generator connects with
# wss://. Each run is reported beside its plain counterpart (the last name), as a ratio.
TLS_FULL = [
    ("echo-50-tls", "echo", ["--connections", "50", "--duration", "10"], "echo-50"),
    # Memory per TLS connection, at steps that connect-19500 also measures.
    ("connect-10000-tls", "connect",
     ["--connections", "10000", "--steps", "1000,5000,10000"], "connect-19500"),
]

TLS_SMOKE = [
    ("echo-5-tls", "echo", ["--connections", "5", "--duration", "1"], "echo-5"),
    ("connect-300-tls", "connect", ["--connections", "300", "--steps", "100,300"], "connect-300"),
]

# The yardstick (issue 16): the runs above that also run against beryl-yardstick, a Beast-only
# server of the bench:* contract, as "<name>-yardstick" right after the beryl run, so that both
# see the same machine; the report gives beryl / yardstick. Each maps to the yardstick's
# arguments for its best showing here: echo with one thread (the generator has the other core;
# a thread per core echoes ~12 % less), the rest with a thread per core (fanout ~15 % more).
ONE_THREAD = ["--threads", "1"]
YARDSTICK_FULL = {"connect-19500": [], "connect-5000": [], "fanout-2000x100": [],
                  "fanout-2000x1000": [], "echo-50": ONE_THREAD, "churn-800-dwell150-bench": [],
                  "room-2000-bench": [], "capacity": []}

YARDSTICK_SMOKE = {"connect-300": [], "fanout-50x50": [], "echo-5": ONE_THREAD}

# What counting costs (issue 15): these runs again with --no-metrics, as "<name>-no-metrics"
# right after the beryl run; the report gives counters on / off, which should stay above 0.98.
NO_METRICS_FULL = ["fanout-2000x1000", "echo-50"]
NO_METRICS_SMOKE = ["fanout-50x50", "echo-5"]

# The cluster (docs/cluster.md): three beryl-server nodes on this machine, started by the suite
# for each run; the generator spreads its connections over them (connection i on node i mod 3)
# and publishes from node 1. (name, scenario, arguments, the single-node run it is reported
# beside, the nodes' arguments.) On one machine the three nodes share the two cores, so the
# cluster fanout is set beside one node serving the same 6,000 subscribers at the same rate.
# The heal run stops node 3 (SIGSTOP) until the others saw its members leave, so it runs with
# a short presence down period; the down period must exceed 11 broadcast periods.
HEAL_SERVER_ARGS = ["--presence-broadcast-ms", "100", "--presence-down-period-ms", "2000"]

CLUSTER_FULL = [
    ("cluster-fanout-3x2000x100", "fanout",
     ["--connections", "6000", "--rate", "100", "--duration", "10"], "fanout-6000x100", []),
    # The same 2,000 subscribers as fanout-2000x100, a third on each node: what crossing nodes
    # costs when the machine is not saturated (6,000 subscribers at 100 msg/s saturate its two
    # cores with one node as with three).
    ("cluster-fanout-3x667x100", "fanout",
     ["--connections", "2000", "--rate", "100", "--duration", "10"], "fanout-2000x100", []),
    # 19,500 per node, the most a node's 20,000 open files allow; 4 generator processes.
    ("cluster-broadcast-58500", "connect", ["--connections", "58500", "--broadcasts", "3"], None,
     []),
    ("cluster-presence-heal", "heal", ["--connections", "1500"], None, HEAL_SERVER_ARGS),
]

CLUSTER_SMOKE = [
    ("cluster-fanout-3x20x50", "fanout",
     ["--connections", "60", "--rate", "50", "--duration", "1"], "fanout-60x50", []),
    # Three generator processes, as the full run's several.
    ("cluster-broadcast-300", "connect",
     ["--connections", "300", "--per-process", "100", "--broadcasts", "2"], None, []),
    ("cluster-presence-heal-60", "heal", ["--connections", "60"], None, HEAL_SERVER_ARGS),
]

# Seconds a single run may take before the generator stops itself.
TIMEOUT_S = {"full": 240, "smoke": 30}


def runs(smoke):
    """The plain runs, each followed by its yardstick run and its --no-metrics run if it has
    them, then the TLS runs, then the cluster runs."""
    plain, tls, yardstick, no_metrics, cluster = (
        (SMOKE, TLS_SMOKE, YARDSTICK_SMOKE, NO_METRICS_SMOKE, CLUSTER_SMOKE) if smoke
        else (FULL, TLS_FULL, YARDSTICK_FULL, NO_METRICS_FULL, CLUSTER_FULL))
    out = []
    for name, scenario, args in plain:
        out.append(Run(name, scenario, args, "beryl", None, []))
        if name in yardstick:
            out.append(Run(name + "-yardstick", scenario, args, "yardstick", name, yardstick[name]))
        if name in no_metrics:
            out.append(Run(name + "-no-metrics", scenario, args, "beryl-no-metrics", name,
                           ["--no-metrics"]))
    out += [Run(name, scenario, args, "beryl-tls", versus, [])
            for name, scenario, args, versus in tls]
    return out + [Run(name, scenario, args, "cluster", versus, server_args)
                  for name, scenario, args, versus, server_args in cluster]
