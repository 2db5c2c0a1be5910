// The usage file: /data/out/usage.json, what a component reports it consumed, as Keboola's
// job-runner reads it (UsageFile.php): a JSON array of {"metric": "<name>", "value": <number>}
// objects with exactly those two keys. Strictly validated: any other shape fails the job (a user
// error naming the file and the first wrong element). Read after every run that got as far as
// its container, failed ones included (components are told to write it as they go).
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>

namespace runner {

// The largest usage file read (1 MiB): a few metrics are a few hundred bytes.
inline constexpr std::size_t kMaxUsageBytes = 1024 * 1024;

struct UsageRead {
  std::optional<nlohmann::json> usage;  // the array; nullopt when there is no file
  std::optional<std::string> problem;   // why the file is wrong (then usage is nullopt)
};

// Reads DATA_DIR/out/usage.json.
UsageRead read_usage_file(const std::filesystem::path& data_dir);

// Validates a parsed usage document; the problem, or nullopt when it is right.
std::optional<std::string> usage_problem(const nlohmann::json& doc);

}  // namespace runner
