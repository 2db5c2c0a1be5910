// Event helpers: level names and UTC time formatting (microseconds, as Kestra's ordering fix
// showed that millisecond stamps reorder equal-time lines).
#include "logging/event.hpp"

#include <cctype>

#include <array>
#include <ctime>

namespace runner::logging {

namespace {
constexpr std::array<std::string_view, 8> kLevelNames = {
    "debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"};
}

std::string_view level_name(Level level) {
  return kLevelNames[static_cast<std::size_t>(level)];
}

std::optional<Level> level_from_name(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "warn") return Level::warning;
  if (lower == "trace") return Level::debug;
  for (int i = 0; i <= static_cast<int>(Level::emergency); ++i) {
    const auto level = static_cast<Level>(i);
    if (level_name(level) == lower) return level;
  }
  return std::nullopt;
}

EventTime now_utc() {
  return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

std::string format_time(EventTime t) {
  const auto us = t.time_since_epoch().count();
  std::time_t secs = static_cast<std::time_t>(us / 1000000);
  long frac = static_cast<long>(us % 1000000);
  if (frac < 0) {
    frac += 1000000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  std::array<char, 64> buf{};
  std::snprintf(buf.data(), buf.size(), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
  return buf.data();
}

}  // namespace runner::logging
