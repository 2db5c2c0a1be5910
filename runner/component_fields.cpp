// The component field readers: see the header.
#include "runner/component_fields.hpp"

#include "logging/json_reader.hpp"

namespace runner {

using nlohmann::json;

std::string child(const std::string& path, const std::string& key) {
  return logging::json_child_path(path, key);
}

void check_keys(const json& obj, const std::string& path, const std::set<std::string>& allowed,
                ProblemList& problems, const std::set<std::string>& more_allowed) {
  for (const auto& [key, value] : obj.items()) {
    if (allowed.count(key) != 0 || more_allowed.count(key) != 0) continue;
    std::set<std::string> every = allowed;
    every.insert(more_allowed.begin(), more_allowed.end());
    std::string list;
    for (const auto& a : every) list += (list.empty() ? "" : ", ") + a;
    problems.add(child(path, key), "unknown key (expected one of: " + list + ")");
  }
}

std::optional<std::string> read_string(const json& obj, const std::string& key,
                                       const std::string& path, ProblemList& problems,
                                       bool non_empty) {
  if (!obj.contains(key)) return std::nullopt;
  const json& v = obj.at(key);
  if (!v.is_string() || (non_empty && v.get<std::string>().empty())) {
    problems.expected(child(path, key), non_empty ? "a non-empty string" : "a string", v);
    return std::nullopt;
  }
  return v.get<std::string>();
}

std::optional<std::vector<std::string>> read_string_array(const json& obj, const std::string& key,
                                                          const std::string& path,
                                                          ProblemList& problems) {
  if (!obj.contains(key)) return std::nullopt;
  const json& v = obj.at(key);
  if (!v.is_array()) {
    problems.expected(child(path, key), "an array of strings such as [\"sh\", \"-c\", \"...\"]", v);
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string()) {
      problems.expected(child(path, key) + "[" + std::to_string(i) + "]", "a string", v[i]);
      continue;
    }
    out.push_back(v[i].get<std::string>());
  }
  return out;
}

json read_object(const json& obj, const std::string& key, const std::string& path,
                 ProblemList& problems) {
  if (!obj.contains(key)) return json::object();
  const json& v = obj.at(key);
  if (!v.is_object()) {
    problems.expected(child(path, key), "an object", v);
    return json::object();
  }
  return v;
}

std::map<std::string, std::string> read_string_map(const json& obj, const std::string& key,
                                                   const std::string& path, ProblemList& problems) {
  std::map<std::string, std::string> out;
  const json m = read_object(obj, key, path, problems);
  for (const auto& [k, v] : m.items()) {
    if (!v.is_string()) {
      problems.expected(child(child(path, key), k), "a string", v);
      continue;
    }
    out[k] = v.get<std::string>();
  }
  return out;
}

}  // namespace runner
