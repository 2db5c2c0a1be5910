// ShipperConfig parsing: see shipper_config.hpp.
#include "shipper/shipper_config.hpp"

#include "shipper/cron_schedule.hpp"

#include "logging/json_reader.hpp"
#include "logging/kestra_namespace.hpp"
#include "logging/kestra_protocol.hpp"
#include "shipper/yaml_reader.hpp"

#include <yaml-cpp/exceptions.h>

#include <sys/stat.h>

#include <array>
#include <fstream>
#include <set>
#include <sstream>

namespace runner::shipper {

namespace {

std::optional<std::chrono::microseconds> read_duration(const nlohmann::json& doc, const char* key,
                                                       std::vector<std::string>& problems) {
  auto it = doc.find(key);
  if (it == doc.end() || it->is_null()) return std::nullopt;
  std::optional<double> seconds;
  if (it->is_string()) seconds = logging::parse_iso8601_duration(it->get<std::string>());
  if (!seconds || *seconds < 0) {
    problems.push_back(std::string(key) +
                       ": expected an ISO-8601 duration such as \"P1D\" or \"PT30S\", got " +
                       logging::describe_json(*it));
    return std::nullopt;
  }
  return std::chrono::microseconds(static_cast<std::int64_t>(*seconds * 1e6));
}

}  // namespace

ShipperConfigError::ShipperConfigError(std::vector<std::string> problems)
    : Error(ErrorKind::invalid_config,
            problems.empty() ? "invalid shipper configuration" : problems.front()),
      problems_(std::move(problems)) {}

std::string ShipperConfig::state_key() const {
  return namespace_name ? offset_key + ":" + *namespace_name : offset_key;
}

std::string normalize_exporter_type(const std::string& type) {
  static const std::pair<const char*, const char*> kKestra[] = {
      {"io.kestra.plugin.ee.core.log.FileLogExporter", "file"},
      {"io.kestra.plugin.ee.elasticsearch.LogExporter", "elasticsearch"},
      {"io.kestra.plugin.ee.opensearch.LogExporter", "elasticsearch"},
      {"io.kestra.plugin.ee.datadog.LogExporter", "datadog"},
      {"io.kestra.plugin.ee.opentelemetry.LogExporter", "opentelemetry"},
      {"io.kestra.plugin.ee.loki.LogExporter", "loki"},
      {"opensearch", "elasticsearch"},
  };
  for (const auto& [from, to] : kKestra)
    if (type == from) return to;
  return type;
}

namespace {

// "logExporters": a non-empty list of mappings with a unique id and a known type (Kestra's type
// names normalized).
void parse_exporters(const nlohmann::json& doc, ShipperConfig& config,
                     std::vector<std::string>& problems) {
  auto exporters = doc.find("logExporters");
  if (exporters == doc.end() || exporters->is_null()) {
    problems.push_back("logExporters: required: a list of exporters, each with id and type");
  } else if (!exporters->is_array() || exporters->empty()) {
    problems.push_back("logExporters: expected a non-empty list of exporters, got " +
                       logging::describe_json(*exporters));
  } else {
    std::set<std::string> ids;
    for (std::size_t i = 0; i < exporters->size(); ++i) {
      const std::string where = "logExporters[" + std::to_string(i) + "]";
      nlohmann::json entry = (*exporters)[i];
      if (!entry.is_object()) {
        problems.push_back(where + ": expected a mapping with id and type, got " +
                           logging::describe_json(entry));
        continue;
      }
      auto id = entry.find("id");
      if (id == entry.end() || !id->is_string() || id->get<std::string>().empty()) {
        problems.push_back(where + ".id: required: a non-empty string naming the exporter");
      } else if (!ids.insert(id->get<std::string>()).second) {
        problems.push_back(where + ".id: \"" + logging::json_excerpt(id->get<std::string>()) +
                           "\" is used twice");
      }
      auto type = entry.find("type");
      if (type == entry.end() || !type->is_string()) {
        problems.push_back(where +
                           ".type: required: one of file, elasticsearch, opensearch, "
                           "opentelemetry, datadog, loki, gelf, syslog");
      } else {
        entry["type"] = normalize_exporter_type(type->get<std::string>());
      }
      config.exporters.push_back(std::move(entry));
    }
  }
}

// Everything else: level filter, durations, namespace, offset key, batch size, retries, delete.
void parse_settings(const nlohmann::json& doc, ShipperConfig& config,
                    std::vector<std::string>& problems) {
  if (auto it = doc.find("logLevelFilter"); it != doc.end() && !it->is_null()) {
    std::optional<logging::Level> level;
    if (it->is_string()) level = logging::level_from_name(it->get<std::string>());
    if (!level)
      problems.push_back(
          "logLevelFilter: expected TRACE, DEBUG, INFO, WARN or ERROR (or notice, "
          "critical, alert, emergency), got " +
          logging::describe_json(*it));
    else
      config.min_level = *level;
  }
  if (auto d = read_duration(doc, "lookbackPeriod", problems)) config.lookback = *d;
  if (auto d = read_duration(doc, "retryDelay", problems)) config.retry_delay = *d;
  if (auto d = read_duration(doc, "settlePeriod", problems)) config.settle = *d;
  if (auto it = doc.find("namespace"); it != doc.end() && !it->is_null()) {
    if (!it->is_string() || !logging::is_kestra_namespace(it->get<std::string>()))
      problems.push_back(
          "namespace: expected lower-case words separated by dots (such as "
          "\"company.team\"), got " +
          logging::describe_json(*it));
    else
      config.namespace_name = it->get<std::string>();
  }
  if (auto it = doc.find("offsetKey"); it != doc.end() && !it->is_null()) {
    if (!it->is_string() || it->get<std::string>().empty())
      problems.push_back("offsetKey: expected a non-empty string, got " +
                         logging::describe_json(*it));
    else
      config.offset_key = it->get<std::string>();
  }
  if (auto it = doc.find("batchSize"); it != doc.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 1 || it->get<std::int64_t>() > 100000)
      problems.push_back("batchSize: expected an integer from 1 to 100000, got " +
                         logging::describe_json(*it));
    else
      config.batch_size = it->get<std::size_t>();
  }
  if (auto it = doc.find("maxRetries"); it != doc.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 0 || it->get<std::int64_t>() > 20)
      problems.push_back("maxRetries: expected an integer from 0 to 20, got " +
                         logging::describe_json(*it));
    else
      config.max_retries = it->get<int>();
  }
  if (auto it = doc.find("delete"); it != doc.end() && !it->is_null()) {
    if (!it->is_boolean())
      problems.push_back("delete: expected true or false, got " + logging::describe_json(*it));
    else
      config.delete_shipped = it->get<bool>();
  }
}

}  // namespace

namespace {

bool type_ends_with(const nlohmann::json& item, std::string_view suffix) {
  if (!item.is_object()) return false;
  const auto type = item.find("type");
  return type != item.end() && type->is_string() && type->get<std::string>().ends_with(suffix);
}

// The cron of a flow's Schedule trigger (the first one that has a cron), if any.
std::optional<std::string> schedule_cron_of(const nlohmann::json& flow,
                                            std::vector<std::string>& problems) {
  const auto triggers = flow.find("triggers");
  if (triggers == flow.end() || triggers->is_null()) return std::nullopt;
  if (!triggers->is_array()) {
    problems.push_back("triggers: expected a list of triggers, got " +
                       logging::describe_json(*triggers));
    return std::nullopt;
  }
  for (std::size_t i = 0; i < triggers->size(); ++i) {
    const nlohmann::json& trigger = (*triggers)[i];
    if (!type_ends_with(trigger, ".Schedule")) continue;
    const auto cron = trigger.find("cron");
    std::string problem;
    if (cron == trigger.end() || !cron->is_string() ||
        !CronSchedule::parse(cron->get<std::string>(), problem)) {
      problems.push_back(
          "triggers[" + std::to_string(i) + "].cron: " +
          (problem.empty() ? "required: a cron expression such as \"0 * * * *\"" : problem));
      return std::nullopt;
    }
    return cron->get<std::string>();
  }
  return std::nullopt;
}

// A flow's one LogShipper task, or an empty object with a problem.
nlohmann::json log_shipper_task_of(const nlohmann::json& flow, std::vector<std::string>& problems) {
  const nlohmann::json& tasks = flow.at("tasks");
  std::vector<std::size_t> found;
  std::string types;
  if (tasks.is_array()) {
    for (std::size_t i = 0; i < tasks.size(); ++i) {
      if (type_ends_with(tasks[i], "LogShipper")) found.push_back(i);
      if (tasks[i].is_object() && tasks[i].contains("type"))
        types += (types.empty() ? "" : ", ") + logging::describe_json(tasks[i]["type"]);
    }
  }
  if (!tasks.is_array()) {
    problems.push_back("tasks: expected a list of tasks, got " + logging::describe_json(tasks));
  } else if (found.empty()) {
    problems.push_back("tasks: no task of type io.kestra.plugin.ee.core.log.LogShipper (found: " +
                       (types.empty() ? std::string("none") : types) + ")");
  } else if (found.size() > 1) {
    problems.push_back("tasks: " + std::to_string(found.size()) +
                       " LogShipper tasks; runner ship runs one: keep one in the file");
  } else {
    return tasks[found.front()];
  }
  return nlohmann::json::object();
}

}  // namespace

namespace {

// One LogShipper task's properties (or a shipper.yaml).
ShipperConfig parse_task_config(const nlohmann::json& doc) {
  std::vector<std::string> problems;
  ShipperConfig config;
  if (!doc.is_object())
    throw ShipperConfigError(
        {"expected a mapping with logExporters, got " + logging::describe_json(doc)});
  static const std::set<std::string> known = {
      "id",         "type",         "logExporters", "logLevelFilter", "lookbackPeriod",
      "namespace",  "offsetKey",    "batchSize",    "delete",         "maxRetries",
      "retryDelay", "settlePeriod", "description"};
  for (const auto& [key, value] : doc.items()) {
    if (known.count(key) == 0) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      problems.push_back(logging::json_excerpt(key) + ": unknown property (known: " + list + ")");
    }
  }
  if (auto it = doc.find("type"); it != doc.end()) {
    if (!it->is_string() || !it->get<std::string>().ends_with("LogShipper"))
      problems.push_back("type: expected a LogShipper task type (or no type), got " +
                         logging::describe_json(*it));
  }
  parse_exporters(doc, config, problems);
  parse_settings(doc, config, problems);
  if (!problems.empty()) throw ShipperConfigError(std::move(problems));
  return config;
}

}  // namespace

ShipperConfig parse_shipper_config(const nlohmann::json& doc) {
  if (!doc.is_object() || !doc.contains("tasks")) return parse_task_config(doc);
  // A whole flow file: its LogShipper task, read once (a task holding "tasks" is no flow).
  std::vector<std::string> problems;
  const std::optional<std::string> cron = schedule_cron_of(doc, problems);
  const nlohmann::json task = log_shipper_task_of(doc, problems);
  if (!problems.empty()) throw ShipperConfigError(std::move(problems));
  try {
    ShipperConfig config = parse_task_config(task);
    config.schedule_cron = cron;
    return config;
  } catch (const ShipperConfigError& e) {
    // Name the task's properties as the flow file has them.
    std::vector<std::string> within;
    for (const auto& p : e.problems()) within.push_back("tasks (LogShipper): " + p);
    throw ShipperConfigError(std::move(within));
  }
}

nlohmann::json yaml_to_json(const std::string& text) {
  try {
    return read_yaml(text);
  } catch (const YamlInputError& e) {
    throw ShipperConfigError({e.what()});
  } catch (const YAML::Exception& e) {
    throw ShipperConfigError({std::string("not valid YAML or JSON: ") + e.what()});
  }
}

ShipperConfig load_shipper_config(const std::filesystem::path& path) {
  constexpr std::size_t kMaxFile = YamlLimits{}.max_text_bytes;
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
      static_cast<std::uint64_t>(info.st_size) > kMaxFile)
    throw ShipperConfigError({"the file is " + std::to_string(info.st_size) +
                              " bytes, more than the limit of " + std::to_string(kMaxFile)});
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ShipperConfigError({"cannot read the file"});
  std::string text;
  std::array<char, 65536> chunk{};
  while (in.read(chunk.data(), chunk.size()) || in.gcount() > 0) {
    text.append(chunk.data(), static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxFile)
      throw ShipperConfigError(
          {"the file is more than the limit of " + std::to_string(kMaxFile) + " bytes"});
  }
  nlohmann::json doc;
  if (path.extension() == ".json") {
    logging::JsonLimits limits;
    limits.max_depth = YamlLimits{}.max_depth;
    limits.max_bytes = kMaxFile;
    try {
      doc = logging::read_json(text, limits);
    } catch (const logging::JsonInputError& e) {
      throw ShipperConfigError({e.what()});
    }
  } else {
    doc = yaml_to_json(text);
  }
  return parse_shipper_config(doc);
}

}  // namespace runner::shipper
