// JobStages: the container runs one job makes, in Keboola's order, and what moves between them.
//
// A job runs its configuration, or each enabled configuration row in order (`--row ID`: that one
// row, disabled or not). Each of those runs is a chain of stages over one working folder: the
// `before` processors, the main component, the `after` processors. Between two stages the
// outputs become the next stage's inputs (Keboola's WorkingDirectory::moveOutputToInput):
// in/tables and in/files are replaced by out/tables and out/files, and out/ starts empty again;
// each stage gets its own config.json (its own parameters). With --data-dir such a job runs in
// private folders too (the user's in/ is copied in, the final out/ copied back after success). The
// first stage that does not succeed ends the row, and a row that does not succeed ends the job:
// later rows do not run.
//
// Every stage's container is made like the main one (the job's labels, so `runner gc`, signals
// and a worker's take-over find it), named runner-<job id>-<stage> and labelled with its stage
// (and row); every event of a job with processors or rows carries its stage and row as fields.
#pragma once

#include "logging/event.hpp"
#include "logging/job_status.hpp"
#include "runner/component.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace runner {

inline constexpr const char* kLabelStage = "io.runner.stage";
inline constexpr const char* kLabelRow = "io.runner.row";

enum class StageKind { before, main, after };

struct Stage {
  StageKind kind = StageKind::main;
  std::size_t index = 0;  // 1-based within its list (0 for main)
  const ComponentSpec* spec = nullptr;
  // "before-1", "main", "after-2": in events, container names and labels.
  std::string name() const;
};

// One run of the chain: the configuration's, or one row's.
struct ChainRun {
  const ConfigRow* row = nullptr;  // null: a configuration without rows
  nlohmann::json parameters;       // the main component's, the row's merged over the config's
  std::vector<Stage> stages;
};

struct JobPlan {
  std::vector<ChainRun> runs;
  // Rows that are skipped (disabled), in the order of the file, for the result.
  std::vector<const ConfigRow*> disabled;
  // True when the job is more than one container run or has rows: events carry their stage.
  bool tagged = false;
};

// The plan of `spec`. Throws UsageError when `only_row` names no row (or the file has none).
JobPlan plan_job(const ComponentSpec& spec, const std::optional<std::string>& only_row);

// The stage's component with the run's parameters (main) and its own otherwise.
nlohmann::json stage_config(const Stage& stage, const ChainRun& run);
// Between two stages: out/tables and out/files become in/tables and in/files, out/ is emptied
// of them. Throws InternalError when the folder cannot be changed.
void move_output_to_input(const std::filesystem::path& data_dir);
// Replaces data_dir/config.json (mode 0600, same owner as the one it replaces).
void write_stage_config(const std::filesystem::path& data_dir, const nlohmann::json& config);

// Copies the folder `from` into `to` (made when missing), replacing files of the same name;
// symbolic links are copied as links, never followed. Throws InternalError.
void copy_folder(const std::filesystem::path& from, const std::filesystem::path& to);

// How each row of a job ended, for the result ({"id", "status", "exit_code", "message"}; the
// driver adds "duration" to the rows that ran).
nlohmann::json row_result(const std::string& id, std::string_view status, int exit_code,
                          const std::string& message);
// How one container run of a chain ended, for the result's "stages" (`row` empty: no rows).
nlohmann::json stage_result(const std::string& row, const std::string& stage,
                            const std::string& component_id, const logging::JobSummary& summary,
                            double duration_seconds);

}  // namespace runner
