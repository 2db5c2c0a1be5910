// Store benchmarks (one process, no Docker):
//   insert URL N      N stdout-like events (83-byte lines) through StoreSink, fed in reads of
//                     ~6,000 lines as the engine delivers them; prints events/s including the
//                     final drain of the writer thread.
//   insert-small URL N  the same with one event per read (a component that prints slowly and
//                     flushes every line): the writer's merging is what keeps this fast.
//   ship URL DIR N    ships the N newest events of the store (after `insert`) to the file
//                     exporter in DIR with batchSize 1000; prints events/s.
//   claim URL JOBS THREADS  enqueues JOBS jobs, then THREADS connections claim them all at once;
//                     prints the median and p95 of one claim_job call, and claims/s.
#include "secrets/config_cipher.hpp"
#include "shipper/log_exporter.hpp"
#include "shipper/log_shipper.hpp"
#include "store/store.hpp"
#include "store/store_sink.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace runner;
using Clock = std::chrono::steady_clock;

namespace {

std::string new_id(std::mt19937_64& rng) {
  return fmt::format("0192{:04x}-{:04x}-7{:03x}-8{:03x}-{:012x}", rng() & 0xffff, rng() & 0xffff,
                     rng() & 0xfff, rng() & 0xfff, rng() & 0xffffffffffffULL);
}

int insert(const std::string& url, std::size_t n, std::size_t per_read) {
  std::mt19937_64 rng(std::random_device{}());
  store::JobRecord job;
  job.id = new_id(rng);
  job.component_id = "bench.insert";
  job.status = "processing";
  job.created_at = logging::now_utc();
  const std::string line(82, 'x');
  const auto t0 = Clock::now();
  {
    store::StoreSink sink(store::open_store(url), job);
    for (std::size_t i = 1; i <= n; ++i) {
      logging::Event e{logging::now_utc(), job.id, i,      logging::Level::info,
                       "stdout",           line,   nullptr};
      sink.write(e);
      if (i % per_read == 0) sink.flush();
    }
    logging::JobSummary summary;
    summary.job_id = job.id;
    summary.status = logging::JobStatus::success;
    sink.finish(summary);
    if (auto err = sink.error()) {
      std::fprintf(stderr, "store error: %s\n", err->c_str());
      return 1;
    }
  }
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("insert %zu events (%zu per read) into %s: %.3f s, %.0f events/s\n", n, per_read,
              url.substr(0, url.find(':')).c_str(), s, n / s);
  return 0;
}

int ship(const std::string& url, const std::string& dir, std::size_t n) {
  auto db = store::open_store(url);
  shipper::ShipperConfig config;
  config.batch_size = 1000;
  config.settle = std::chrono::microseconds(0);
  config.min_level = logging::Level::debug;
  config.offset_key = "bench-" + std::to_string(std::random_device{}());
  config.lookback = std::chrono::hours(24 * 365);
  nlohmann::json exporter = {{"id", "files"}, {"type", "file"}, {"path", dir}};
  std::vector<std::unique_ptr<shipper::LogExporter>> exporters;
  exporters.push_back(shipper::make_exporter(
      exporter, "logExporters[0]", [] { return std::optional<secrets::EncryptionKey>(); }));
  const auto t0 = Clock::now();
  const auto stats = shipper::ship_once(*db, config, exporters);
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("ship %llu events (store holds them; %zu asked) to files: %.3f s, %.0f events/s\n",
              static_cast<unsigned long long>(stats.events), n, s, stats.events / s);
  return 0;
}

int claim(const std::string& url, int jobs, int threads) {
  std::mt19937_64 rng(std::random_device{}());
  {
    auto db = store::open_store(url);
    for (int i = 0; i < jobs; ++i) {
      store::JobRecord job;
      job.id = new_id(rng);
      job.component_id = "bench.claim";
      job.status = "waiting";
      job.created_at = logging::now_utc();
      job.spec = R"({"id":"bench.claim","image":"runner-busybox:latest"})";
      db->enqueue(job);
    }
  }
  std::mutex mutex;
  std::vector<double> latencies;
  std::vector<std::thread> pool;
  const auto t0 = Clock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      auto db = store::open_store(url);
      std::vector<double> mine;
      for (;;) {
        const auto c0 = Clock::now();
        auto job = db->claim_job("bench-" + std::to_string(t), std::chrono::seconds(30));
        const auto c1 = Clock::now();
        if (!job) break;
        mine.push_back(std::chrono::duration<double, std::milli>(c1 - c0).count());
      }
      std::lock_guard lock(mutex);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
    });
  }
  for (auto& th : pool) th.join();
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  std::sort(latencies.begin(), latencies.end());
  const auto pct = [&](double p) {
    return latencies.empty() ? 0.0
                             : latencies[std::min(latencies.size() - 1,
                                                  static_cast<std::size_t>(p * latencies.size()))];
  };
  std::printf(
      "claim %zu jobs with %d connection(s) on %s: median %.2f ms, p95 %.2f ms, %.0f claims/s\n",
      latencies.size(), threads, url.substr(0, url.find(':')).c_str(), pct(0.5), pct(0.95),
      latencies.size() / s);
  return latencies.size() == static_cast<std::size_t>(jobs) ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(
        stderr,
        "usage: bench_store insert|insert-small URL N | ship URL DIR N | claim URL JOBS THREADS\n");
    return 64;
  }
  const std::string mode = argv[1];
  try {
    if (mode == "insert") return insert(argv[2], std::stoul(argv[3]), 6000);
    if (mode == "insert-small") return insert(argv[2], std::stoul(argv[3]), 1);
    if (mode == "ship") return ship(argv[2], argv[3], std::stoul(argv[4]));
    if (mode == "claim") return claim(argv[2], std::stoi(argv[3]), std::stoi(argv[4]));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_store: %s\n", e.what());
    return 1;
  }
  return 64;
}
