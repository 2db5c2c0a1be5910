// Typed readers of a component's fields: each reads one field of one expected type and, when
// the field is there but wrong, adds one "$.path: expected ..., got ..." line to a ProblemList, so
// that messages stay uniform and every problem of a file is reported at once. Used by the
// component parser (component.cpp) for every section; new sections (processors, rows) use them
// the same way.
#pragma once

#include "logging/json_reader.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace runner {

// A JSON value as quoted in a problem: scalars as short JSON, containers by their kind.
using logging::describe_json;
// "$.a" + "b" -> "$.a.b" (keys that are not plain words are quoted).
std::string child(const std::string& path, const std::string& key);

class ProblemList {
 public:
  void add(const std::string& path, const std::string& what) {
    lines_.push_back(path + ": " + what);
  }
  void expected(const std::string& path, const std::string& what, const nlohmann::json& got) {
    add(path, "expected " + what + ", got " + describe_json(got));
  }
  bool empty() const { return lines_.empty(); }
  std::vector<std::string> take() { return std::move(lines_); }

 private:
  std::vector<std::string> lines_;
};

// One problem per key of `obj` not in `allowed` (nor in `more_allowed`).
void check_keys(const nlohmann::json& obj, const std::string& path,
                const std::set<std::string>& allowed, ProblemList& problems,
                const std::set<std::string>& more_allowed = {});
// obj[key] when it is there and a (non-empty) string; nullopt when absent or wrong.
std::optional<std::string> read_string(const nlohmann::json& obj, const std::string& key,
                                       const std::string& path, ProblemList& problems,
                                       bool non_empty = true);
std::optional<std::vector<std::string>> read_string_array(const nlohmann::json& obj,
                                                          const std::string& key,
                                                          const std::string& path,
                                                          ProblemList& problems);
// obj[key] when it is an object; {} when absent or wrong.
nlohmann::json read_object(const nlohmann::json& obj, const std::string& key,
                           const std::string& path, ProblemList& problems);
// The string members of the object obj[key] (others are problems).
std::map<std::string, std::string> read_string_map(const nlohmann::json& obj,
                                                   const std::string& key, const std::string& path,
                                                   ProblemList& problems);

}  // namespace runner
