// read_json: see the header. BoundedDomBuilder is nlohmann's SAX DOM builder with the limits
// added: it keeps a stack of the containers being filled (never recursing), and a refusal stops
// the parse at once, so a hostile document costs at most the bytes read up to the refusal.
#include "logging/json_reader.hpp"

#include "common/utf8.hpp"

#include <cmath>
#include <utility>
#include <vector>

namespace runner::logging {
namespace {

using nlohmann::json;

bool simple_key(std::string_view key) {
  if (key.empty()) return false;
  for (const char c : key) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '#' || c == '@' || c == '$' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// nlohmann's syntax message with the "last read" token shortened to its end (where the error
// is): the token of an unterminated string is everything after its quote.
std::string shortened_syntax_message(std::string what) {
  const auto start = what.find("syntax error");
  if (start != std::string::npos) what = what.substr(start);
  const std::string marker = "last read: '";
  const auto token = what.find(marker);
  if (token != std::string::npos) {
    const std::size_t from = token + marker.size();
    std::size_t to = what.rfind("'; expected");
    if (to == std::string::npos || to < from) to = what.rfind('\'');
    if (to != std::string::npos && to > from + 40) {
      std::size_t cut = to - 40;
      while (cut < to && (static_cast<unsigned char>(what[cut]) & 0xC0) == 0x80) ++cut;
      what = what.substr(0, from) + "..." + what.substr(cut);
    }
  }
  return json_excerpt(what, 300);
}

class BoundedDomBuilder {
 public:
  explicit BoundedDomBuilder(const JsonLimits& limits) : limits_(limits) {}

  bool null() { return put(json(nullptr)) != nullptr; }
  bool boolean(bool value) { return put(json(value)) != nullptr; }
  bool number_integer(json::number_integer_t value) { return put(json(value)) != nullptr; }
  bool number_unsigned(json::number_unsigned_t value) { return put(json(value)) != nullptr; }
  bool number_float(json::number_float_t value, const std::string& text) {
    if (text.size() > limits_.max_number_chars) return too_long_number(text);
    if (!std::isfinite(value))
      return fail(value_path(), "number out of range (beyond +-1.8e308, what a double holds): " +
                                    json_excerpt(text));
    return put(json(value)) != nullptr;
  }
  bool string(std::string& value) { return put(json(std::move(value))) != nullptr; }
  bool binary(json::binary_t& value) { return put(json(std::move(value))) != nullptr; }

  bool start_object(std::size_t /*elements*/) { return open(json::object()); }
  bool start_array(std::size_t /*elements*/) { return open(json::array()); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(std::string& key) {
    const auto& object = stack_.back().value->get_ref<const json::object_t&>();
    if (limits_.reject_duplicate_keys && object.find(key) != object.end())
      return fail(json_child_path(path_of(stack_.size()), key),
                  "duplicate key: \"" + json_excerpt(key) +
                      "\" is given twice in the same object (only one value can apply)");
    pending_key_ = std::move(key);
    return true;
  }

  bool parse_error(std::size_t /*position*/, const std::string& last_token,
                   const nlohmann::detail::exception& error) {
    // nlohmann reports a number beyond a double's range itself (out_of_range 406), before the
    // builder sees it: a refusal of the value, at its path, not a syntax error.
    if (dynamic_cast<const json::out_of_range*>(&error) != nullptr) {
      if (last_token.size() > limits_.max_number_chars) return too_long_number(last_token);
      return fail(value_path(), "number out of range (beyond +-1.8e308, what a double holds): " +
                                    json_excerpt(last_token));
    }
    const auto* parse = dynamic_cast<const json::parse_error*>(&error);
    syntax_byte_ = parse != nullptr ? parse->byte : 0;
    syntax_ = true;
    error_path_ = "$";
    error_reason_ = shortened_syntax_message(error.what());
    return false;
  }

  json take() { return std::move(root_); }
  bool syntax_error() const { return syntax_; }
  std::size_t syntax_byte() const { return syntax_byte_; }
  const std::string& error_path() const { return error_path_; }
  const std::string& error_reason() const { return error_reason_; }

 private:
  struct Frame {
    json* value;
    const std::string* key;  // where it sits in its parent, when that is an object
    std::size_t index;       // ... when that is an array
  };

  bool too_long_number(const std::string& text) {
    return fail(value_path(), "a number of " + std::to_string(text.size()) +
                                  " characters (at most " +
                                  std::to_string(limits_.max_number_chars) +
                                  " are accepted): " + json_excerpt(text));
  }

  bool fail(std::string path, std::string reason) {
    // A path 250 levels deep is mostly repetition: its start and end say where it is.
    if (path.size() > 200) {
      std::size_t tail = path.size() - 60;
      while (tail < path.size() && (static_cast<unsigned char>(path[tail]) & 0xC0) == 0x80) ++tail;
      path = path.substr(0, utf8_cut_point(path, 120)) + "..." + path.substr(tail);
    }
    error_path_ = std::move(path);
    error_reason_ = std::move(reason);
    return false;
  }

  // Path of the value at stack level `levels` (0: the root).
  std::string path_of(std::size_t levels) const {
    std::string path = "$";
    for (std::size_t i = 1; i < levels; ++i) {
      if (stack_[i - 1].value->is_array())
        path += "[" + std::to_string(stack_[i].index) + "]";
      else
        path = json_child_path(path, *stack_[i].key);
    }
    return path;
  }
  // Path of the value about to be put.
  std::string value_path() const {
    if (stack_.empty()) return "$";
    const std::string parent = path_of(stack_.size());
    const json& top = *stack_.back().value;
    if (top.is_array()) return parent + "[" + std::to_string(top.size()) + "]";
    return json_child_path(parent, pending_key_);
  }

  // Adds a value where the parse is; returns it, with its place in `where`.
  json* put(json value, Frame* where = nullptr) {
    if (stack_.empty()) {
      root_ = std::move(value);
      if (where != nullptr) *where = {&root_, nullptr, 0};
      return &root_;
    }
    json& top = *stack_.back().value;
    if (top.is_array()) {
      auto& array = top.get_ref<json::array_t&>();
      array.push_back(std::move(value));
      if (where != nullptr) *where = {&array.back(), nullptr, array.size() - 1};
      return &array.back();
    }
    auto& object = top.get_ref<json::object_t&>();
    auto [it, inserted] = object.emplace(std::move(pending_key_), std::move(value));
    if (where != nullptr) *where = {&it->second, &it->first, 0};
    return &it->second;
  }

  bool open(json container) {
    if (stack_.size() >= limits_.max_depth)
      return fail(value_path(), "nested deeper than " + std::to_string(limits_.max_depth) +
                                    " levels of arrays and objects");
    Frame frame{};
    put(std::move(container), &frame);
    stack_.push_back(frame);
    return true;
  }
  bool close() {
    stack_.pop_back();
    return true;
  }

  const JsonLimits& limits_;
  json root_;
  std::vector<Frame> stack_;
  std::string pending_key_;
  bool syntax_ = false;
  std::size_t syntax_byte_ = 0;
  std::string error_path_;
  std::string error_reason_;
};

}  // namespace

JsonInputError::JsonInputError(std::string path, std::string reason)
    : Error(ErrorKind::invalid_config, path + ": " + reason),
      path_(std::move(path)),
      reason_(std::move(reason)) {}

std::string json_excerpt(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  std::string out(text.substr(0, utf8_cut_point(text, max_bytes)));
  out += "...";
  return out;
}

std::string describe_json(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::boolean:
      return value.get<bool>() ? "true" : "false";
    case nlohmann::json::value_t::object:
      return "an object";
    case nlohmann::json::value_t::array:
      return "an array";
    default:
      break;
  }
  const std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return text.size() > 60 ? json_excerpt(text, 57) : text;
}

std::string json_child_path(const std::string& parent, std::string_view key) {
  const std::size_t cut = key.size() > 40 ? utf8_cut_point(key, 40) : key.size();
  const std::string_view shown = key.substr(0, cut);
  const char* more = cut < key.size() ? "..." : "";
  if (simple_key(shown)) return parent + "." + std::string(shown) + more;
  return parent + "[" +
         json(std::string(shown) + more).dump(-1, ' ', false, json::error_handler_t::replace) + "]";
}

json read_json(std::string_view text, const JsonLimits& limits) {
  if (text.size() > limits.max_bytes)
    throw JsonInputError("$", "the document is " + std::to_string(text.size()) +
                                  " bytes, more than the limit of " +
                                  std::to_string(limits.max_bytes));
  BoundedDomBuilder builder(limits);
  const bool ok = json::sax_parse(text.data(), text.data() + text.size(), &builder,
                                  json::input_format_t::json, true, false);
  if (ok) return builder.take();
  if (!builder.syntax_error()) throw JsonInputError(builder.error_path(), builder.error_reason());
  // Turn nlohmann's byte offset into a line and column a person can find.
  std::size_t line = 1, column = 1;
  const std::size_t byte = builder.syntax_byte();
  const std::size_t end = std::min<std::size_t>(byte == 0 ? 0 : byte - 1, text.size());
  for (std::size_t i = 0; i < end; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  throw JsonInputError("$", "not valid JSON at line " + std::to_string(line) + ", column " +
                                std::to_string(column) + ": " + builder.error_reason());
}

std::optional<json> try_read_json(std::string_view text, const JsonLimits& limits,
                                  std::string* error) {
  try {
    return read_json(text, limits);
  } catch (const JsonInputError& e) {
    if (error != nullptr) *error = e.what();
    return std::nullopt;
  }
}

json read_json_or_discarded(std::string_view text, const JsonLimits& limits) {
  auto value = try_read_json(text, limits);
  return value ? std::move(*value) : json(json::value_t::discarded);
}

bool json_deeper_than(const json& value, std::size_t max_depth) {
  std::vector<std::pair<const json*, std::size_t>> pending = {{&value, 1}};
  while (!pending.empty()) {
    const auto [node, depth] = pending.back();
    pending.pop_back();
    if (!node->is_structured()) continue;
    if (depth > max_depth) return true;
    for (const auto& child : *node)
      if (child.is_structured()) pending.emplace_back(&child, depth + 1);
  }
  return false;
}

}  // namespace runner::logging
