// parse_retention_duration and apply_retention_setting (retention_setting.hpp).
#include "runner/retention_setting.hpp"

#include "logging/event.hpp"
#include "logging/kestra_protocol.hpp"
#include "store/retention.hpp"
#include "store/store.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace runner {

namespace {

// What the automatic retention may do per application (at the end of a run, per worker pass).
constexpr std::uint64_t kAutoJobs = 50;
constexpr std::uint64_t kAutoReclaimBytes = std::uint64_t{256} << 20;

}  // namespace

std::optional<std::chrono::microseconds> parse_retention_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (text.front() == 'P' || text.front() == 'p') {
    const auto seconds = logging::parse_iso8601_duration(text);
    if (!seconds || *seconds <= 0) return std::nullopt;
    return std::chrono::microseconds(static_cast<std::int64_t>(*seconds * 1e6));
  }
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size() - 1, value);
  if (ec != std::errc() || end != text.data() + text.size() - 1 || !(value > 0) ||
      !std::isfinite(value))
    return std::nullopt;
  double unit = 0;
  switch (text.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    case 'w':
      unit = 7 * 86400;
      break;
    default:
      return std::nullopt;
  }
  const double us = value * unit * 1e6;
  if (us > 1e17) return std::nullopt;  // beyond 3,000 years: a typo
  return std::chrono::microseconds(static_cast<std::int64_t>(us));
}

void apply_retention_setting(const std::string& store_url) {
  const char* env = std::getenv("RUNNER_RETENTION");
  if (env == nullptr || *env == '\0' || store_url == "none" || store_url.empty()) return;
  const auto age = parse_retention_duration(env);
  if (!age) {
    std::fprintf(stderr,
                 "runner: warning: RUNNER_RETENTION=%s is not a duration (30d, 12h, P30D): "
                 "nothing pruned\n",
                 env);
    return;
  }
  try {
    auto db = store::open_store(store_url);
    store::PruneOptions options;
    options.filter.finished_before = logging::now_utc() - *age;
    options.filter.limit = static_cast<std::size_t>(kAutoJobs);
    options.max_jobs = kAutoJobs;
    options.max_reclaim_bytes = kAutoReclaimBytes;
    store::prune(*db, options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "runner: warning: RUNNER_RETENTION: pruning failed: %s\n", e.what());
  }
}

}  // namespace runner
