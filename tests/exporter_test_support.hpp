// What the exporter tests share: events to send (fixed times, so payloads are predictable), an
// empty key lookup, and an environment variable set for the length of a scope.
#pragma once

#include "shipper/log_exporter.hpp"

#include <cstdlib>
#include <optional>
#include <string>

namespace runner_test {

inline const runner::shipper::KeyLookup kNoKey = [] {
  return std::optional<runner::secrets::EncryptionKey>();
};

// 2025-11-21T11:54:14.000000Z plus `micros`.
inline runner::logging::EventTime test_time(std::int64_t micros) {
  return runner::logging::EventTime(std::chrono::microseconds(1763726054000000LL + micros));
}

// Event `sequence` of `job`, stamped sequence ms + 7 us after test_time(0).
inline runner::shipper::ShippedEvent shipped_event(
    std::uint64_t sequence, std::string message,
    runner::logging::Level level = runner::logging::Level::info, std::string fields = "",
    std::string source = "stdout", std::string job = "0190c2a4-job-a",
    std::string ns = "team.data") {
  runner::shipper::ShippedEvent e;
  e.event.job_id = std::move(job);
  e.event.sequence = sequence;
  e.event.time = test_time(static_cast<std::int64_t>(sequence) * 1000 + 7);
  e.event.level = level;
  e.event.source = std::move(source);
  e.event.message = std::move(message);
  e.event.fields = std::move(fields);
  e.namespace_name = std::move(ns);
  e.component_id = "keboola.ex-db";
  return e;
}

// Sets (or, with nullopt, unsets) an environment variable until the end of the scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::optional<std::string>& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value->c_str(), 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_.c_str(), old_->c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

}  // namespace runner_test
