// The "limits" section: see the header; parse_size (component.hpp) is Docker's size syntax.
#include "runner/component_limits.hpp"

#include <cctype>
#include <charconv>
#include <cmath>

namespace runner {
namespace {

using nlohmann::json;

constexpr double kMaxCpus = 1024;           // absurd beyond; the engine checks the host
constexpr std::int64_t kMaxPids = 4194304;  // PID_MAX_LIMIT
constexpr std::uint64_t kMaxBytes = 9000000000000000000ULL;

// "memory" and "memory_swap": Docker sizes; memory_swap is memory plus swap, so at least memory.
void parse_memory_limits(const json& limits, ComponentSpec& spec, ProblemList& problems) {
  const std::string size_hint =
      "a size such as \"256m\" or \"1g\" (a number with unit b, k, m or g)";
  bool memory_ok = true;
  if (limits.contains("memory")) {
    const json& v = limits.at("memory");
    std::optional<std::int64_t> bytes;
    if (v.is_string())
      bytes = parse_size(v.get<std::string>());
    else if (v.is_number_integer() &&
             !(v.is_number_unsigned() && v.get<std::uint64_t>() > kMaxBytes))
      bytes = v.get<std::int64_t>();
    if (!bytes || *bytes <= 0) {
      problems.expected("$.limits.memory", size_hint, v);
      memory_ok = false;
    } else if (*bytes < 6LL * 1024 * 1024) {
      problems.add(
          "$.limits.memory",
          "expected at least \"6m\" (the Docker engine's minimum), got " + describe_json(v));
      memory_ok = false;
    } else {
      spec.limits.memory_bytes = *bytes;
      spec.limits.memory_text = v.is_string() ? v.get<std::string>() : std::to_string(*bytes);
    }
  }
  spec.limits.memory_swap_bytes = spec.limits.memory_bytes;
  if (limits.contains("memory_swap")) {
    const json& v = limits.at("memory_swap");
    std::optional<std::int64_t> bytes;
    if (v.is_string())
      bytes = v.get<std::string>() == "-1" ? std::optional<std::int64_t>(-1)
                                           : parse_size(v.get<std::string>());
    else if (v.is_number_integer() &&
             !(v.is_number_unsigned() && v.get<std::uint64_t>() > kMaxBytes))
      bytes = v.get<std::int64_t>();
    if (!bytes || (*bytes <= 0 && *bytes != -1)) {
      problems.expected("$.limits.memory_swap", size_hint + ", or -1 for unlimited swap", v);
    } else if (*bytes != -1 && memory_ok && *bytes < spec.limits.memory_bytes) {
      problems.add("$.limits.memory_swap",
                   "expected at least limits.memory (" + spec.limits.memory_text +
                       "): it is memory plus swap, got " + describe_json(v));
    } else {
      spec.limits.memory_swap_bytes = *bytes;
    }
  }
}

// "cpus", "pids" and "timeout": numbers within what the engine and the kernel accept.
void parse_counted_limits(const json& limits, ComponentSpec& spec, ProblemList& problems) {
  if (limits.contains("cpus")) {
    // The engine takes NanoCpus (an int64) and refuses more than the host has; the host is only
    // known at run time (JobRunner checks it), so here the bound is an absolute one.
    const json& v = limits.at("cpus");
    if (!v.is_number() || !(v.get<double>() >= 0.01) || !(v.get<double>() <= kMaxCpus))
      problems.expected(
          "$.limits.cpus",
          "a number of CPUs from 0.01 to " + std::to_string(int(kMaxCpus)) + ", such as 1.5", v);
    else
      spec.limits.cpus = v.get<double>();
  }
  if (limits.contains("pids")) {
    const json& v = limits.at("pids");
    if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<std::uint64_t>() > kMaxPids) ||
        v.get<std::int64_t>() < 1 || v.get<std::int64_t>() > kMaxPids)
      problems.expected("$.limits.pids",
                        "a whole number of processes from 1 to " + std::to_string(kMaxPids) +
                            " (Linux's largest pid)",
                        v);
    else
      spec.limits.pids = v.get<std::int64_t>();
  }
  if (limits.contains("timeout")) {
    const json& v = limits.at("timeout");
    if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<std::uint64_t>() > 86400) ||
        v.get<std::int64_t>() < 1 || v.get<std::int64_t>() > 86400)
      problems.expected("$.limits.timeout", "whole seconds from 1 to 86400 (24 hours)", v);
    else
      spec.limits.timeout_seconds = static_cast<int>(v.get<std::int64_t>());
  }
}

}  // namespace

std::optional<std::int64_t> parse_size(std::string_view text) {
  // NUMBER [UNIT] with optional spaces: NUMBER is digits with an optional fraction, UNIT one of
  // b k m g t (any case) optionally followed by "b" or "ib" ("256MB", "1GiB").
  if (text.size() > 64) return std::nullopt;
  auto space = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  std::size_t i = 0;
  while (i < text.size() && space(text[i])) ++i;
  const std::size_t number_start = i;
  while (i < text.size() && digit(text[i])) ++i;
  if (i == number_start) return std::nullopt;
  if (i < text.size() && text[i] == '.') {
    const std::size_t fraction = ++i;
    while (i < text.size() && digit(text[i])) ++i;
    if (i == fraction) return std::nullopt;
  }
  const std::string number(text.substr(number_start, i - number_start));
  while (i < text.size() && space(text[i])) ++i;
  char unit = 'b';
  if (i < text.size() && std::string_view("bkmgtBKMGT").find(text[i]) != std::string_view::npos)
    unit = static_cast<char>(std::tolower(static_cast<unsigned char>(text[i++])));
  if (i < text.size() && (text[i] == 'i' || text[i] == 'I')) {
    ++i;
    if (i >= text.size() || (text[i] != 'b' && text[i] != 'B')) return std::nullopt;
    ++i;
  } else if (i < text.size() && (text[i] == 'b' || text[i] == 'B')) {
    ++i;
  }
  while (i < text.size() && space(text[i])) ++i;
  if (i != text.size()) return std::nullopt;
  const double value = std::strtod(number.c_str(), nullptr);
  double scale = 1;
  switch (unit) {
    case 'k':
      scale = 1024.0;
      break;
    case 'm':
      scale = 1024.0 * 1024;
      break;
    case 'g':
      scale = 1024.0 * 1024 * 1024;
      break;
    case 't':
      scale = 1024.0 * 1024 * 1024 * 1024;
      break;
    default:
      break;
  }
  const double bytes = value * scale;
  if (!(bytes <= 9.0e18)) return std::nullopt;
  return static_cast<std::int64_t>(bytes);
}

void parse_limits(const json& doc, ComponentSpec& spec, ProblemList& problems) {
  if (!doc.contains("limits")) return;
  const json& limits = doc.at("limits");
  if (!limits.is_object()) {
    problems.expected("$.limits", "an object", limits);
    return;
  }
  check_keys(limits, "$.limits", {"memory", "memory_swap", "cpus", "pids", "timeout"}, problems);
  parse_memory_limits(limits, spec, problems);
  parse_counted_limits(limits, spec, problems);
}

}  // namespace runner
