// read_yaml: a YAML document (the shipper config) as JSON, built from yaml-cpp's event stream
// with every limit enforced while it is read, before anything is built from it.
//
// Loading into YAML::Node first is what let a file take the machine down: yaml-cpp resolves
// aliases by sharing nodes, so `a: &a [*a]` is a cycle that any walk over the tree follows
// forever (a segfault), and a billion-laughs file is a small graph that becomes gigabytes when
// walked. Here yaml-cpp's Parser drives a YAML::EventHandler that builds the JSON directly with
// an explicit stack (no recursion of ours), and:
//   - an alias is expanded by copying its anchor's value, but only after checking that the
//     copy keeps the whole document within max_nodes and max_bytes (an anchor's size is known
//     when it ends);
//   - an alias to a node that is still open (its own ancestor) is a cycle and is refused;
//   - nesting beyond max_depth is refused as it opens, so yaml-cpp's own recursive descent
//     (bounded at 2,000 levels by its DepthGuard in 0.7) never goes deeper than that either;
//   - duplicate keys, non-scalar keys and a second document are refused;
//   - the text itself is limited to max_text_bytes.
// Scalars: quoted ones stay strings; plain ones that read as booleans (true/false in three
// casings), null (~, null), integers or decimals become those. A number out of range is an error.
#pragma once

#include "common/error.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace runner::shipper {

struct YamlLimits {
  std::size_t max_text_bytes = 1024 * 1024;
  std::size_t max_depth = 64;
  std::size_t max_nodes = 100000;           // after alias expansion
  std::size_t max_bytes = 8 * 1024 * 1024;  // keys and scalars, after alias expansion
};

// A refused document; what() names the place (a path such as "logExporters[0].type" and the line
// and column) and the reason.
class YamlInputError : public Error {
 public:
  explicit YamlInputError(const std::string& what) : Error(ErrorKind::invalid_config, what) {}
};

nlohmann::json read_yaml(std::string_view text, const YamlLimits& limits = {});

}  // namespace runner::shipper
