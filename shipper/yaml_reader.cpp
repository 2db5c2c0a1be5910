// read_yaml: see the header. JsonFromYamlEvents keeps one frame per open sequence or mapping,
// each owning the JSON value being filled; a closed frame is moved into its parent, so no
// pointer into a growing container is ever held.
#include "shipper/yaml_reader.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <sstream>
#include <vector>

namespace runner::shipper {
namespace {

using nlohmann::json;

std::string excerpt(std::string_view text, std::size_t max = 40) {
  if (text.size() <= max) return std::string(text);
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return std::string(text.substr(0, cut)) + "...";
}

bool digits(std::string_view text) {
  if (text.empty()) return false;
  for (const char c : text)
    if (c < '0' || c > '9') return false;
  return true;
}

// [-+]?[0-9]+
bool is_integer(std::string_view text) {
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) text.remove_prefix(1);
  return digits(text);
}

// [-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?
bool is_decimal(std::string_view text) {
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) text.remove_prefix(1);
  const auto exponent = text.find_first_of("eE");
  std::string_view mantissa = text.substr(0, exponent);
  if (exponent != std::string_view::npos) {
    std::string_view e = text.substr(exponent + 1);
    if (!e.empty() && (e.front() == '-' || e.front() == '+')) e.remove_prefix(1);
    if (!digits(e)) return false;
  }
  const auto dot = mantissa.find('.');
  if (dot == std::string_view::npos) return false;
  const std::string_view whole = mantissa.substr(0, dot);
  const std::string_view fraction = mantissa.substr(dot + 1);
  if (!whole.empty() && !digits(whole)) return false;
  if (!fraction.empty() && !digits(fraction)) return false;
  return !whole.empty() || !fraction.empty();
}

class JsonFromYamlEvents final : public YAML::EventHandler {
 public:
  explicit JsonFromYamlEvents(const YamlLimits& limits) : limits_(limits) {}

  void OnDocumentStart(const YAML::Mark& /*mark*/) override {}
  void OnDocumentEnd() override {}

  void OnAnchor(const YAML::Mark& /*mark*/, const std::string& name) override {
    pending_anchor_name_ = name;
  }

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    name_anchor(anchor);
    if (expecting_key()) fail(mark, "expected a key, got an empty value");
    count(mark, 1, 0);
    put(mark, json(nullptr), anchor, 1, 0);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    name_anchor(anchor);
    count(mark, 1, value.size());
    if (expecting_key()) {
      remember(anchor, json(value), 1, value.size());
      take_key(mark, value);
      return;
    }
    put(mark, scalar(mark, tag, value), anchor, 1, value.size());
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    const auto it = anchors_.find(anchor);
    if (it == anchors_.end()) {
      for (const auto& frame : stack_)
        if (frame.anchor == anchor)
          fail(mark, "alias *" + anchor_name(anchor) +
                         " is used inside the node it names: a cycle, which has no value");
      fail(mark, "alias to an unknown anchor");
    }
    const Anchored& target = it->second;
    if (nodes_ + target.nodes > limits_.max_nodes || bytes_ + target.bytes > limits_.max_bytes)
      fail(mark, "alias *" + anchor_name(anchor) + " would expand the document past " +
                     std::to_string(limits_.max_nodes) + " values or " +
                     std::to_string(limits_.max_bytes) +
                     " bytes (aliases are copied where they are used)");
    nodes_ += target.nodes;
    bytes_ += target.bytes;
    if (expecting_key()) {
      if (!target.value.is_string()) fail(mark, "expected a key, got an alias to a non-scalar");
      take_key(mark, target.value.get<std::string>());
      return;
    }
    put(mark, json(target.value), 0, target.nodes, target.bytes);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string& /*tag*/, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value /*style*/) override {
    open(mark, json::array(), anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string& /*tag*/, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value /*style*/) override {
    open(mark, json::object(), anchor);
  }
  void OnMapEnd() override { close(); }

  json take() { return std::move(root_); }

 private:
  struct Frame {
    json value;
    YAML::anchor_t anchor = 0;
    std::size_t nodes_before = 0;  // document totals when it opened
    std::size_t bytes_before = 0;
    std::optional<std::string> key;  // a mapping's key waiting for its value
    YAML::Mark mark;
  };
  struct Anchored {  // NOLINT(bugprone-exception-escape): implicit members, nlohmann json
    json value;
    std::size_t nodes = 0;
    std::size_t bytes = 0;
  };

  [[noreturn]] void fail(const YAML::Mark& mark, const std::string& reason) const {
    std::string where = path();
    if (where.size() > 200) where = excerpt(where, 120) + where.substr(where.size() - 60);
    where += where.empty() ? "" : ": ";
    throw YamlInputError(where + reason + " (line " + std::to_string(mark.line + 1) + ", column " +
                         std::to_string(mark.column + 1) + ")");
  }

  std::string path() const {
    std::string out;
    for (const auto& frame : stack_) {
      if (frame.value.is_array())
        out += "[" + std::to_string(frame.value.size()) + "]";
      else if (frame.key)
        out += (out.empty() ? "" : ".") + excerpt(*frame.key);
    }
    return out;
  }

  bool expecting_key() const {
    return !stack_.empty() && stack_.back().value.is_object() && !stack_.back().key;
  }

  void count(const YAML::Mark& mark, std::size_t nodes, std::size_t bytes) {
    nodes_ += nodes;
    bytes_ += bytes;
    if (nodes_ > limits_.max_nodes || bytes_ > limits_.max_bytes)
      fail(mark, "the document holds more than " + std::to_string(limits_.max_nodes) +
                     " values or " + std::to_string(limits_.max_bytes) + " bytes");
  }

  std::string anchor_name(YAML::anchor_t anchor) const {
    const auto it = names_.find(anchor);
    return it != names_.end() ? excerpt(it->second) : std::to_string(anchor);
  }

  // The name OnAnchor announced goes with the node that follows it.
  void name_anchor(YAML::anchor_t anchor) {
    if (anchor != 0 && !pending_anchor_name_.empty()) names_[anchor] = pending_anchor_name_;
    pending_anchor_name_.clear();
  }

  void remember(YAML::anchor_t anchor, const json& value, std::size_t nodes, std::size_t bytes) {
    if (anchor != 0) anchors_[anchor] = Anchored{value, nodes, bytes};
  }

  void take_key(const YAML::Mark& mark, const std::string& key) {
    Frame& frame = stack_.back();
    if (frame.value.contains(key))
      fail(mark, "duplicate key \"" + excerpt(key) + "\" (only one value can apply)");
    frame.key = key;
  }

  json scalar(const YAML::Mark& mark, const std::string& tag, const std::string& text) const {
    if (tag == "!") return text;  // quoted: a string whatever it looks like
    if (text == "true" || text == "True" || text == "TRUE") return true;
    if (text == "false" || text == "False" || text == "FALSE") return false;
    if (text == "null" || text == "~") return nullptr;
    if (text.size() <= 100 && is_integer(text)) {
      errno = 0;
      const long long value = std::strtoll(text.c_str(), nullptr, 10);
      if (errno != ERANGE) return value;
      return text;  // too big for an integer: the property's check says what it expected
    }
    if (is_decimal(text)) {
      if (text.size() > 100)
        fail(mark, "a number of " + std::to_string(text.size()) + " characters");
      const double value = std::strtod(text.c_str(), nullptr);
      if (!std::isfinite(value)) fail(mark, "number out of range: " + excerpt(text));
      return value;
    }
    return text;
  }

  void put(const YAML::Mark& mark, json value, YAML::anchor_t anchor, std::size_t nodes,
           std::size_t bytes) {
    if (anchor != 0) remember(anchor, value, nodes, bytes);
    if (stack_.empty()) {
      root_ = std::move(value);
      return;
    }
    Frame& frame = stack_.back();
    if (frame.value.is_array()) {
      frame.value.push_back(std::move(value));
    } else {
      if (!frame.key) fail(mark, "expected a key");
      frame.value[*frame.key] = std::move(value);
      frame.key.reset();
    }
  }

  void open(const YAML::Mark& mark, json value, YAML::anchor_t anchor) {
    if (expecting_key()) fail(mark, "a key must be a plain value, not a list or a mapping");
    if (stack_.size() >= limits_.max_depth)
      fail(mark, "nested deeper than " + std::to_string(limits_.max_depth) + " levels");
    name_anchor(anchor);
    count(mark, 1, 0);
    stack_.push_back(Frame{std::move(value), anchor, nodes_ - 1, bytes_, std::nullopt, mark});
  }

  void close() {
    Frame frame = std::move(stack_.back());
    stack_.pop_back();
    const std::size_t nodes = nodes_ - frame.nodes_before;
    const std::size_t bytes = bytes_ - frame.bytes_before;
    put(frame.mark, std::move(frame.value), frame.anchor, nodes, bytes);
  }

  const YamlLimits& limits_;
  json root_;
  std::vector<Frame> stack_;
  std::map<YAML::anchor_t, Anchored> anchors_;
  std::map<YAML::anchor_t, std::string> names_;
  std::string pending_anchor_name_;
  std::size_t nodes_ = 0;
  std::size_t bytes_ = 0;
};

// Refuses any document after the first, without reading it.
class SecondDocument final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override {
    throw YamlInputError("expected one YAML document, found another at line " +
                         std::to_string(mark.line + 1) + " (after \"---\")");
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

}  // namespace

json read_yaml(std::string_view text, const YamlLimits& limits) {
  if (text.size() > limits.max_text_bytes)
    throw YamlInputError("the file is " + std::to_string(text.size()) +
                         " bytes, more than the limit of " + std::to_string(limits.max_text_bytes));
  std::istringstream in{std::string(text)};
  YAML::Parser parser(in);
  JsonFromYamlEvents builder(limits);
  if (!parser.HandleNextDocument(builder)) return nullptr;  // an empty file
  SecondDocument second;
  parser.HandleNextDocument(second);
  return builder.take();
}

}  // namespace runner::shipper
