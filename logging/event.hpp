// Event: the one record every output of a job becomes (stdout lines, stderr, runner messages,
// GELF and Kestra messages), and JobSummary, the record that closes a job.
//
// Events are passed to sinks by const reference and hold views: a sink that keeps an event past
// the call copies what it needs. That keeps the hot path (one event per stdout line, millions per
// job) free of allocations.
#pragma once

#include "logging/job_status.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace runner::logging {

// Syslog severities, least severe first.
enum class Level : std::uint8_t { debug, info, notice, warning, error, critical, alert, emergency };

std::string_view level_name(Level level);
// A level from its name, case-insensitive: debug, info, notice, warning (or warn), error,
// critical, alert, emergency; Kestra's TRACE counts as debug. nullopt for anything else.
std::optional<Level> level_from_name(std::string_view name);

using EventTime = std::chrono::sys_time<std::chrono::microseconds>;
EventTime now_utc();
// "2026-11-21T11:54:14.123456Z"
std::string format_time(EventTime t);

struct Event {
  EventTime time;
  std::string_view job_id;
  std::uint64_t sequence = 0;
  Level level = Level::info;
  std::string_view source;  // stdout, stderr, runner, ...
  std::string_view message;
  const nlohmann::json* fields = nullptr;  // optional structured fields (an object), or null
};

// A line of a live stream still being written (no newline yet), for live views only: a terminal
// may draw it and redraw it until the line completes. Not an event: no sequence number, never
// stored, written to JSON Lines or exported; the line becomes an event when it completes. Empty
// text: there is no such line any more (the view removes what it drew).
struct PartialLine {
  EventTime time;
  std::string_view job_id;
  Level level = Level::info;
  std::string_view source;
  std::string_view text;
};

// A structured record other than an event (kind "output" or "metric"), stamped like one. Its
// own members are given as JSON text (`"name":"rows","value":5`): records come by the hundred
// thousand from a busy component, and text is what every sink writes anyway.
struct Record {
  EventTime time;
  std::string_view job_id;
  std::uint64_t sequence = 0;
  std::string_view kind;
  std::string_view members;
};

struct JobSummary {
  std::string job_id;
  std::string component_id;
  JobStatus status = JobStatus::error;  // success, error or terminated (never left unset)
  ErrorType error_type = ErrorType::none;
  int exit_code = 0;  // runner's own exit code
  std::optional<std::int64_t> container_exit_code;
  double duration_seconds = 0;
  std::string message;
  nlohmann::json outputs = nlohmann::json::object();  // Kestra protocol outputs, merged
  nlohmann::json metrics = nlohmann::json::array();   // Kestra protocol metrics, aggregated
  nlohmann::json assets = nlohmann::json::array();    // Kestra protocol assets, as reported
  std::string results_summary;  // one line about outputs and metrics for people, or empty
  // Keboola's usage file (out/usage.json, validated), when the component wrote one.
  std::optional<nlohmann::json> usage;
  std::string state_change;  // "saved" or "removed" when the run changed its state, else empty
  // A job of configuration rows: each row, in order, as {"id", "status", "exit_code"?,
  // "message"?} (runner/job_stages.hpp); empty otherwise.
  nlohmann::json rows = nlohmann::json::array();
  // A job of several container runs (processors or rows): each run that started, in order, as
  // {"row"?, "stage", "component_id", "status", "exit_code", "container_exit_code", "duration"}
  // (runner/job_chain.cpp); empty for a job of one container.
  nlohmann::json stages = nlohmann::json::array();
};

}  // namespace runner::logging
