// apply_sink_settings (sink_settings.hpp): strict parsing, so that a typo in an operator's
// environment is an error at start, not a 5-minute window silently shortened to nothing.
#include "store/sink_settings.hpp"

#include "common/error.hpp"

#include <charconv>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace runner::store {

namespace {

std::optional<std::string_view> setting(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string_view(value);
}

Error bad_setting(const char* name, std::string_view value, const char* expected) {
  return Error(ErrorKind::usage, std::string(name) + "=" + std::string(value.substr(0, 64)) +
                                     ": expected " + expected);
}

// Digits only, then an optional suffix from `suffixes` (with its multiplier); nullopt on
// anything else or an overflow.
std::optional<std::uint64_t> number(std::string_view text, bool sizes) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data()) return std::nullopt;
  std::string_view rest(end, static_cast<std::size_t>(text.data() + text.size() - end));
  std::uint64_t unit = 1;
  if (sizes && rest.size() == 1) {
    switch (rest[0]) {
      case 'k':
      case 'K':
        unit = std::uint64_t{1} << 10;
        break;
      case 'm':
      case 'M':
        unit = std::uint64_t{1} << 20;
        break;
      case 'g':
      case 'G':
        unit = std::uint64_t{1} << 30;
        break;
      default:
        return std::nullopt;
    }
  } else if (!rest.empty()) {
    return std::nullopt;
  }
  if (value > std::numeric_limits<std::uint64_t>::max() / unit) return std::nullopt;
  return value * unit;
}

}  // namespace

void apply_sink_settings(StoreSinkOptions& options) {
  if (const auto text = setting("RUNNER_STORE_RETRY_SECONDS")) {
    const auto seconds = number(*text, false);
    if (!seconds || *seconds > kMaxRetrySeconds)
      throw bad_setting("RUNNER_STORE_RETRY_SECONDS", *text,
                        "a whole number of seconds from 0 to 604800 (a week)");
    options.retry_window = std::chrono::seconds(*seconds);
  }
  if (const auto text = setting("RUNNER_SPOOL_MAX_BYTES")) {
    const auto bytes = number(*text, true);
    if (!bytes)
      throw bad_setting("RUNNER_SPOOL_MAX_BYTES", *text,
                        "a number of bytes, optionally with K, M or G (KiB, MiB, GiB), or 0");
    options.max_spool_bytes = *bytes;
    if (*bytes == 0) options.spool_dir.clear();
  }
}

}  // namespace runner::store
