// ShipperConfig: shipper.yaml (or .json) for `runner ship`, with Kestra's LogShipper properties.
//
//   logExporters:        required, a non-empty list; each entry {id, type, ...properties}
//   logLevelFilter:      INFO           (TRACE/DEBUG/INFO/WARN/ERROR and runner's syslog names)
//   lookbackPeriod:      P1D            (ISO-8601; where a first pass starts)
//   namespace:           all namespaces (a namespace also covers its children: "a" ships "a.b")
//   offsetKey:           LogShipper-state
//   batchSize:           1000
//   delete:              false          (delete shipped events from the store)
// and three of runner's own: maxRetries (3), retryDelay (PT1S, doubled on each retry) and
// settlePeriod (PT2S: events younger than this are left for the next pass, so that a block a
// running job's writer is still committing is never skipped). A Kestra task YAML can be pasted:
// `id` and a `type` ending in LogShipper are accepted, and Kestra's exporter class names map to
// runner's types (see normalize_exporter_type). So can a whole Kestra flow file (`id`,
// `namespace`, `tasks`, `triggers`, ...): its one task whose type ends in LogShipper is the
// configuration (the flow's own namespace is where the flow lives, not a filter, and its other
// properties are Kestra's business), and the `cron` of its Schedule trigger (a type ending in
// `.Schedule`) is kept for `runner ship --schedule`.
//
// Every error names the property and what was expected. YAML is read with yaml-cpp; since JSON
// is YAML, one reader takes both.
#pragma once

#include "common/error.hpp"

#include "logging/event.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace runner::shipper {

class ShipperConfigError : public Error {
 public:
  explicit ShipperConfigError(std::vector<std::string> problems);
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::vector<std::string> problems_;
};

struct ShipperConfig {
  std::vector<nlohmann::json> exporters;  // each with "id" and a normalized "type"
  logging::Level min_level = logging::Level::info;
  std::chrono::microseconds lookback = std::chrono::hours(24);
  std::optional<std::string> namespace_name;
  std::string offset_key = "LogShipper-state";
  std::size_t batch_size = 1000;
  bool delete_shipped = false;
  int max_retries = 3;
  std::chrono::microseconds retry_delay = std::chrono::seconds(1);
  std::chrono::microseconds settle = std::chrono::seconds(2);
  // A whole Kestra flow file: the cron of its Schedule trigger, for `runner ship --schedule`.
  std::optional<std::string> schedule_cron;

  // The key-value key the offset is kept under: offsetKey, or offsetKey:namespace.
  std::string state_key() const;
};

// Parses a document (already read from YAML or JSON).
ShipperConfig parse_shipper_config(const nlohmann::json& doc);
// Reads and parses a file. Throws ShipperConfigError (problems prefixed with nothing: the caller
// prints the path).
ShipperConfig load_shipper_config(const std::filesystem::path& path);
// A YAML document as JSON: plain scalars that read as booleans or numbers become those; quoted
// scalars stay strings.
nlohmann::json yaml_to_json(const std::string& text);
// Kestra's exporter class names (io.kestra.plugin.ee.core.log.FileLogExporter, ...) to runner's
// exporter types (file, ...); other values unchanged.
std::string normalize_exporter_type(const std::string& type);

}  // namespace runner::shipper
