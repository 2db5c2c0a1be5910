// Processors and configuration rows of a component file: see the header.
#include "runner/component_stages.hpp"

#include "runner/component_syntax.hpp"
#include "runner/errors.hpp"

#include <set>

namespace runner {
namespace {

using nlohmann::json;

std::string indexed(const std::string& path, std::size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

// One processor: the entry parsed as a component of its own, its problems put under its path.
void parse_processor(const json& entry, const std::string& path, const std::string& default_id,
                     std::vector<ComponentSpec>& out, ProblemList& problems) {
  if (entry.is_string()) {
    problems.add(path,
                 "a path to a component file is only read from a component file on disk; here "
                 "the processor must be given inline (an object with \"image\")");
    return;
  }
  if (!entry.is_object()) {
    problems.expected(
        path, "a processor: an object with \"image\", or the path of a component file", entry);
    return;
  }
  bool refused = false;
  for (const char* key : {"processors", "rows", "action"}) {
    if (!entry.contains(key)) continue;
    problems.add(child(path, key), std::string("not allowed in a processor (a processor ") +
                                       (std::string(key) == "action" ? "only runs its main action"
                                                                     : "is one run, not a chain") +
                                       ")");
    refused = true;
  }
  if (entry.contains("limits") && entry.at("limits").is_object() &&
      entry.at("limits").contains("timeout")) {
    problems.add(child(child(path, "limits"), "timeout"),
                 "not allowed in a processor: the job's timeout ($.limits.timeout) covers every "
                 "stage");
    refused = true;
  }
  if (refused) return;
  json doc = entry;
  if (!doc.contains("id")) doc["id"] = default_id;
  try {
    out.push_back(parse_component(doc));
  } catch (const ConfigError& e) {
    for (const auto& line : e.problems())  // "$.image: ..." -> "$.processors.after[0].image: ..."
      problems.add(path + line.substr(1, line.find(": ") - 1),
                   line.substr(std::min(line.size(), line.find(": ") + 2)));
  }
}

// "processors" of the component or of a row: which lists it gave.
std::pair<bool, bool> parse_chain(const json& holder, const std::string& path,
                                  ProcessorChain& chain, ProblemList& problems) {
  std::pair<bool, bool> given{false, false};
  if (!holder.contains("processors")) return given;
  const json& processors = holder.at("processors");
  const std::string here = child(path, "processors");
  if (!processors.is_object()) {
    problems.expected(here, "an object such as {\"before\": [...], \"after\": [...]}", processors);
    return given;
  }
  check_keys(processors, here, {"before", "after"}, problems);
  for (const char* kind : {"before", "after"}) {
    if (!processors.contains(kind)) continue;
    const json& list = processors.at(kind);
    const std::string list_path = child(here, kind);
    if (!list.is_array()) {
      problems.expected(list_path, "an array of processors", list);
      continue;
    }
    if (list.size() > kMaxProcessors) {
      problems.add(list_path, "more than " + std::to_string(kMaxProcessors) + " processors");
      continue;
    }
    auto& out = std::string(kind) == "before" ? chain.before : chain.after;
    (std::string(kind) == "before" ? given.first : given.second) = true;
    for (std::size_t i = 0; i < list.size(); ++i)
      parse_processor(list[i], indexed(list_path, i),
                      std::string("processor-") + kind + "-" + std::to_string(i + 1), out,
                      problems);
  }
  return given;
}

void parse_row(const json& entry, const std::string& path, ComponentSpec& spec,
               std::set<std::string>& ids, ProblemList& problems) {
  if (!entry.is_object()) {
    problems.expected(path, "a row: an object with \"id\" and \"parameters\"", entry);
    return;
  }
  check_keys(entry, path, {"id", "name", "parameters", "is_disabled", "processors"}, problems);
  ConfigRow row;
  if (auto id = read_string(entry, "id", path, problems)) {
    if (!is_component_id(*id))
      problems.expected(child(path, "id"),
                        "letters, digits, '.', '_' and '-', starting with a letter or digit "
                        "(such as \"orders\")",
                        entry.at("id"));
    else if (!ids.insert(*id).second)
      problems.add(child(path, "id"), "duplicate: another row has the id \"" + *id + "\"");
    else
      row.id = *id;
  } else if (!entry.contains("id")) {
    problems.add(child(path, "id"), "required: the row's id, such as \"orders\"");
  }
  read_string(entry, "name", path, problems, false);
  row.parameters = read_object(entry, "parameters", path, problems);
  if (entry.contains("is_disabled")) {
    if (!entry.at("is_disabled").is_boolean())
      problems.expected(child(path, "is_disabled"), "true or false", entry.at("is_disabled"));
    else
      row.disabled = entry.at("is_disabled").get<bool>();
  }
  const auto given = parse_chain(entry, path, row.processors, problems);
  row.has_before = given.first;
  row.has_after = given.second;
  spec.rows.push_back(std::move(row));
}

void parse_rows(const json& doc, ComponentSpec& spec, ProblemList& problems) {
  if (!doc.contains("rows")) return;
  const json& rows = doc.at("rows");
  if (!rows.is_array()) {
    problems.expected("$.rows",
                      "an array of rows such as [{\"id\": \"orders\", \"parameters\": {}}]", rows);
    return;
  }
  if (rows.size() > kMaxRows) {
    problems.add("$.rows", "more than " + std::to_string(kMaxRows) + " rows");
    return;
  }
  std::set<std::string> ids;
  for (std::size_t i = 0; i < rows.size(); ++i)
    parse_row(rows[i], indexed("$.rows", i), spec, ids, problems);
}

// The processors lists of `doc` (its own and its rows'), for inlining.
std::vector<std::pair<json*, std::string>> processor_lists(json& doc) {
  std::vector<std::pair<json*, std::string>> out;
  auto add = [&out](json& holder, const std::string& path) {
    if (!holder.is_object() || !holder.contains("processors")) return;
    json& processors = holder["processors"];
    if (!processors.is_object()) return;
    for (const char* kind : {"before", "after"})
      if (processors.contains(kind) && processors[kind].is_array())
        out.emplace_back(&processors[kind], child(child(path, "processors"), kind));
  };
  add(doc, "$");
  if (doc.is_object() && doc.contains("rows") && doc["rows"].is_array())
    for (std::size_t i = 0; i < doc["rows"].size(); ++i) add(doc["rows"][i], indexed("$.rows", i));
  return out;
}

}  // namespace

void parse_stages(const json& doc, ComponentSpec& spec, ProblemList& problems) {
  parse_chain(doc, "$", spec.processors, problems);
  parse_rows(doc, spec, problems);
}

json inline_processor_files(json doc, const std::filesystem::path& base_dir) {
  std::vector<std::string> problems;
  for (auto& [list, path] : processor_lists(doc)) {
    if (list->size() > kMaxProcessors) continue;  // parse_stages says so
    for (std::size_t i = 0; i < list->size(); ++i) {
      json& entry = (*list)[i];
      if (!entry.is_string()) continue;
      const std::filesystem::path file = base_dir / entry.get<std::string>();
      try {
        entry = read_json_file(file);
      } catch (const ConfigError& e) {
        for (const auto& line : e.problems()) {
          const std::string prefix = file.string() + ": ";  // read_json_file's own naming
          problems.push_back(indexed(path, i) + ": in the processor file " + prefix +
                             (line.rfind(prefix, 0) == 0 ? line.substr(prefix.size()) : line));
        }
      }
    }
  }
  if (!problems.empty()) throw ConfigError(std::move(problems));
  return doc;
}

json merge_parameters(const json& base, const json& row) {
  const bool both_objects = base.is_object() && row.is_object();
  const bool both_arrays = base.is_array() && row.is_array();
  if (!both_objects && !both_arrays) return row;
  json merged = base;
  if (both_objects) {
    for (const auto& [key, value] : row.items())
      merged[key] = merged.contains(key) ? merge_parameters(merged[key], value) : value;
    return merged;
  }
  for (std::size_t i = 0; i < row.size(); ++i) {
    if (i < merged.size())
      merged[i] = merge_parameters(merged[i], row[i]);
    else
      merged.push_back(row[i]);
  }
  return merged;
}

}  // namespace runner
