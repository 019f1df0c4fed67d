// What the kernel tells about CPU and memory: the server's through /proc/<pid>, the generator's
// through getrusage, the machine's through /proc/loadavg.
#pragma once

#include <sys/types.h>

#include <optional>

namespace bench {

// utime + stime of a process, in seconds; nullopt when it cannot be read (no such pid).
std::optional<double> process_cpu_seconds(pid_t pid);
// VmRSS of a process, in bytes.
std::optional<double> process_rss_bytes(pid_t pid);
// CPU seconds (user + system) used by this process so far.
double self_cpu_seconds();
// CPU seconds the whole machine spent busy so far (all cores, from /proc/stat). Softirq time is
// kept apart: loopback TCP work done in softirq context is charged to no process, yet it is
// the benchmark's own traffic rather than another program.
struct machine_cpu_time {
  double process_s = 0;  // user, nice, system, irq, steal
  double softirq_s = 0;
};
machine_cpu_time machine_cpu();
// The 1-minute load average.
double load_average_1m();

// Raises this process's open-files soft limit to its hard limit; returns the new soft limit.
long raise_open_files_limit();

}  // namespace bench
