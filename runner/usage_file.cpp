// The usage file: see the header.
#include "runner/usage_file.hpp"

#include "logging/json_reader.hpp"
#include "runner/component.hpp"
#include "runner/errors.hpp"

#include <fstream>
#include <sstream>

namespace runner {

std::optional<std::string> usage_problem(const nlohmann::json& doc) {
  if (!doc.is_array())
    return "expected an array of {\"metric\": \"...\", \"value\": number} objects, got " +
           logging::describe_json(doc);
  for (std::size_t i = 0; i < doc.size(); ++i) {
    const auto& item = doc[i];
    const std::string at = "[" + std::to_string(i) + "]";
    if (!item.is_object())
      return at + ": expected an object with \"metric\" and \"value\", got " +
             logging::describe_json(item);
    for (const auto& [key, value] : item.items())
      if (key != "metric" && key != "value") return at + ": unexpected key \"" + key + "\"";
    if (!item.contains("metric") || !item["metric"].is_string() ||
        item["metric"].get_ref<const std::string&>().empty())
      return at + ".metric: expected a non-empty string";
    if (!item.contains("value") || !item["value"].is_number())
      return at + ".value: expected a number";
  }
  return std::nullopt;
}

UsageRead read_usage_file(const std::filesystem::path& data_dir) {
  UsageRead read;
  const auto path = data_dir / "out" / "usage.json";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    if (std::filesystem::exists(std::filesystem::symlink_status(path, ec)))
      read.problem = "out/usage.json is not a regular file";
    return read;
  }
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > kMaxUsageBytes) {
    read.problem = "out/usage.json is " + std::to_string(size) + " bytes, more than the limit of " +
                   std::to_string(kMaxUsageBytes);
    return read;
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json doc;
  try {
    logging::JsonLimits limits;
    limits.max_bytes = kMaxUsageBytes;
    limits.max_depth = 8;
    doc = logging::read_json(text.str(), limits);
  } catch (const logging::JsonInputError& e) {
    read.problem = std::string("out/usage.json: ") + e.what();
    return read;
  }
  if (auto problem = usage_problem(doc)) {
    read.problem = "out/usage.json" + (problem->front() == '[' ? *problem : ": " + *problem);
    return read;
  }
  read.usage = std::move(doc);
  return read;
}

}  // namespace runner
