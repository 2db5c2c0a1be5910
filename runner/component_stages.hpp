// The multi-run parts of a component file: processors and configuration rows (Keboola's
// common interface; docs/component.md).
//
// - `processors`: {"before": [...], "after": [...]}, each entry a component of its own (image,
//   command, parameters, limits ...) given inline or as the path of another component file,
//   relative to the file that names it. Paths are read when the file is read
//   (inline_processor_files, bounded like the file itself), so a queued job holds its whole
//   chain. A processor has no processors, rows or action of its own, and no timeout: the job's
//   covers every stage.
// - `rows`: [{"id", "name"?, "parameters", "is_disabled", "processors"?}]: one run each, in
//   order, with the row's parameters merged over the configuration's (merge_parameters).
// Problems name their full path ("$.processors.after[0].image: ...") like every other field.
#pragma once

#include "runner/component.hpp"
#include "runner/component_fields.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>

namespace runner {

inline constexpr std::size_t kMaxProcessors = 32;  // per list
inline constexpr std::size_t kMaxRows = 1000;

// Parses "processors" and "rows" of `doc` into `spec` (called by parse_component).
void parse_stages(const nlohmann::json& doc, ComponentSpec& spec, ProblemList& problems);

// Replaces every processor given as a path (a string) by the document of that file, read with
// read_json_file; relative paths are relative to `base_dir`. Throws ConfigError naming the
// entry of each file that cannot be read.
nlohmann::json inline_processor_files(nlohmann::json doc, const std::filesystem::path& base_dir);

// Keboola's merge of a row's configuration over its configuration's (PHP's
// array_replace_recursive): objects merge key by key, arrays index by index, recursively; any
// other value of the row replaces the configuration's. Depth is bounded by the component's.
nlohmann::json merge_parameters(const nlohmann::json& base, const nlohmann::json& row);

}  // namespace runner
