// beryl-loadgen: a Phoenix V2 JSON load generator for the benchmark suite (see bench/README.md).
#include "options.hpp"
#include "proc_stats.hpp"
#include "scenarios.hpp"

#include <boost/json.hpp>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <malloc.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <string>

namespace {

using scenario_fn = boost::json::object (*)(const bench::loadgen_options&);

const std::map<std::string, scenario_fn>& scenarios() {
  static const std::map<std::string, scenario_fn> table = {
      {"connect", bench::run_connect},   {"connect-worker", bench::run_connect_worker},
      {"fanout", bench::run_fanout},     {"echo", bench::run_echo},
      {"churn", bench::run_churn},       {"room", bench::run_room},
      {"capacity", bench::run_capacity}, {"heal", bench::run_heal},
  };
  return table;
}

// Descriptors beyond the connections: stdio, pipes, the epoll and timer fds.
constexpr long spare_files = 1000;

}  // namespace

int main(int argc, char** argv) {
  // Big messages reuse heap blocks instead of fresh mmap'd pages, page-faulted in each time.
  mallopt(M_MMAP_THRESHOLD, 64 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 512 * 1024 * 1024);
  // stdout carries the JSON result; diagnostics go to stderr.
  spdlog::set_default_logger(spdlog::stderr_color_mt("loadgen"));
  spdlog::set_pattern("[%H:%M:%S.%e] [%l] %v");
  if (argc >= 2 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h")) {
    std::cout << bench::usage();
    return 0;
  }
  bench::loadgen_options options;
  try {
    options = bench::parse_options(argc, argv);
  } catch (const std::invalid_argument& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  const auto scenario = scenarios().find(options.scenario);
  if (scenario == scenarios().end()) {
    std::cerr << "unknown scenario " << options.scenario << "\n" << bench::usage();
    return 2;
  }

  const long fd_limit = bench::raise_open_files_limit();
  if (fd_limit > spare_files) {
    options.per_process =
        std::min(options.per_process, static_cast<std::size_t>(fd_limit - spare_files));
  }
  const bool multi_process = options.scenario == "connect";
  if (!multi_process && options.connections + 1 > options.per_process) {
    std::cerr << options.scenario << " runs in one process: at most " << options.per_process - 1
              << " connections\n";
    return 2;
  }

  try {
    auto result = scenario->second(options);
    if (options.scenario.find("-worker") == std::string::npos) {
      result["scenario"] = options.scenario;
      boost::json::array urls;
      for (const auto& url : options.urls) urls.emplace_back(url);
      result["urls"] = std::move(urls);
      result["fd_limit_per_process"] = fd_limit;
    }
    std::cout << boost::json::serialize(result) << std::endl;
  } catch (const std::exception& e) {
    spdlog::error("{} failed: {}", options.scenario, e.what());
    return 1;
  }
  return 0;
}
