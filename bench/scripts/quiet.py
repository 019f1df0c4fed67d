"""Waits for the machine to go quiet before a run: on a shared 2-core machine a compiler or test
suite running next to the benchmark takes CPU from both the server and the generator."""

import os
import time

QUIET_PCT = 25  # busy CPU of the whole machine, in % of one core, that still counts as quiet


def _busy_and_total():
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def busy_pct(sample_s=1.0):
    """The machine's busy CPU over `sample_s`, in % of one core."""
    busy0, total0 = _busy_and_total()
    time.sleep(sample_s)
    busy1, total1 = _busy_and_total()
    cores = os.cpu_count() or 1
    return 100.0 * cores * (busy1 - busy0) / max(total1 - total0, 1)


def wait_for_quiet(max_wait_s, log):
    """Returns the last busy figure, after it fell under QUIET_PCT or max_wait_s passed."""
    deadline = time.monotonic() + max_wait_s
    busy = busy_pct()
    while busy >= QUIET_PCT and time.monotonic() < deadline:
        log(f"machine busy ({busy:.0f} % of a core used by other processes); waiting")
        busy = busy_pct(2.0)
    return busy
