"""Says what limited a run: the load generator, the server, both cores, or neither."""

SATURATED_PCT = 90  # of one core
BUSY_MACHINE_PCT = 25  # other processes' CPU, of one core, that makes a figure suspect


def _offered_shortfall(result):
    """True when an open-loop scenario did not get its offered rate out."""
    if "achieved_rate" in result and result.get("offered_rate"):
        return result["achieved_rate"] < 0.95 * result["offered_rate"]
    if result.get("offered_rate") and "joins_per_s" in result:
        return result["joins_per_s"] < 0.95 * result["offered_rate"]
    return False


def verdict(result, cores):
    cpu = result.get("cpu") or {}
    gen = cpu.get("generator_cpu_pct_per_process") or 0.0
    server = cpu.get("server_cpu_pct")
    others = cpu.get("other_processes_cpu_pct") or 0.0
    notes = []
    if others >= BUSY_MACHINE_PCT:
        notes.append(f"machine not idle: other processes took {others:.0f} % of a core")
    if gen >= SATURATED_PCT:
        notes.append(f"load generator: {gen:.0f} % of a core per process")
    generators = gen * cpu.get("generator_processes", 1)
    softirq = cpu.get("softirq_cpu_pct") or 0.0
    if server is not None and server + generators + others + softirq >= SATURATED_PCT * cores:
        notes.append(f"all {cores} cores busy (server {server:.0f} %, generator "
                     f"{generators:.0f} %, network softirq {softirq:.0f} %, others {others:.0f} %)")
    elif server is not None and server >= SATURATED_PCT:
        notes.append(f"server CPU: {server:.0f} % of a core")
    if _offered_shortfall(result):
        notes.append("offered rate not reached" +
                     (" (generator saturated)" if gen >= SATURATED_PCT else
                      " (clients waiting on the server)"))
    if not notes:
        notes.append("neither saturated: bound by latency (closed loop) or by the offered load"
                     if server is not None else "unknown: server CPU not measured")
    return "; ".join(notes)
