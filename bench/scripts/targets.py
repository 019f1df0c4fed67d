"""The issue's targets for this machine (2 cores shared by server and load generator)."""


def _get(results, run, *path):
    value = results.get(run, {}).get("result")
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _fanout_lost(results, run):
    r = _get(results, run)
    if not r:
        return None
    return r["lost"] + r["duplicated"] + r["out_of_order"]


def _churn_keeps_up(results, run):
    r = _get(results, run)
    if not r or r.get("skipped"):
        return None
    return r["joins_per_s"] / r["offered_rate"] if r["offered_rate"] else None


# (label, run, measured(results) -> number or None, ok(value) -> bool, target text, unit)
TARGETS = [
    ("connect: idle joined connections", "connect-19500",
     lambda r: _get(r, "connect-19500", "joined"), lambda v: v >= 19500, "19,500", ""),
    ("connect: server RSS per connection", "connect-19500",
     lambda r: _get(r, "connect-19500", "rss_per_connection_bytes"),
     lambda v: v <= 8192, "≤ 8 KB", "B"),
    ("connect: joins/s at 5,000 connections", "connect-5000",
     lambda r: _get(r, "connect-5000", "joins_per_s"), lambda v: v >= 11000, "≥ 11,000", "/s"),
    ("fanout 2,000 × 100 msg/s: deliveries/s", "fanout-2000x100",
     lambda r: _get(r, "fanout-2000x100", "deliveries_per_s"), lambda v: v >= 190000,
     "≥ 190,000", "/s"),
    ("fanout 2,000 × 100 msg/s: p99 latency", "fanout-2000x100",
     lambda r: _get(r, "fanout-2000x100", "latency", "p99_us"), lambda v: v < 50000, "< 50 ms",
     "µs"),
    ("fanout 2,000 × 100 msg/s: lost + dup + out-of-order", "fanout-2000x100",
     lambda r: _fanout_lost(r, "fanout-2000x100"), lambda v: v == 0, "0", ""),
    ("fanout 2,000 × 1,000 msg/s: deliveries/s", "fanout-2000x1000",
     lambda r: _get(r, "fanout-2000x1000", "deliveries_per_s"), lambda v: v >= 250000,
     "≥ 250,000", "/s"),
    ("fanout 2,000 × 1,000 msg/s: lost + dup + out-of-order", "fanout-2000x1000",
     lambda r: _fanout_lost(r, "fanout-2000x1000"), lambda v: v == 0, "0", ""),
    ("echo 50 clients: replies/s", "echo-50",
     lambda r: _get(r, "echo-50", "replies_per_s"), lambda v: v >= 90000, "≥ 90,000", "/s"),
    ("echo 50 clients: p99 latency", "echo-50",
     lambda r: _get(r, "echo-50", "latency", "p99_us"), lambda v: v < 1500, "< 1.5 ms", "µs"),
    ("churn 50 clients: joins/s achieved of 4,000 offered", "churn-50x4000",
     lambda r: _churn_keeps_up(r, "churn-50x4000"), lambda v: v >= 0.99, "≥ 99 %", "ratio"),
    ("churn 50 clients: observer presence lag p99", "churn-50x4000",
     lambda r: _get(r, "churn-50x4000", "presence_lag", "p99_us"), lambda v: v < 200000,
     "< 200 ms", "µs"),
]
