// What runner's two simdjson readers (GELF messages, Kestra protocol lines) share: a reusable
// padded copy for texts whose buffer has no room for simdjson's read-ahead, values read exactly as
// nlohmann's parser would type them, a depth-bounded conversion of an on-demand value into a
// nlohmann DOM (for values that are handed on whole: GELF's nested fields, Kestra's outputs; also
// for values nobody needs, since on-demand parsing is lazy: a value skipped unread is not
// checked, yet nlohmann, the reference, would refuse the text).
//
// Header-only so that the GELF library (which does not link runner_logging) uses the same code.
// Every function returns false instead of throwing; callers then hand the text to nlohmann, which
// decides (and words the error). The recursion is bounded by `depth_left`.
#pragma once

#include <simdjson.h>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

namespace runner::logging::simdjson_values {

namespace ondemand = simdjson::ondemand;

// A JSON text with at least SIMDJSON_PADDING readable bytes after it: the text itself when its
// buffer has them (`readable_after`), else a copy in `PaddedCopy`'s buffer, which grows once to
// the largest text seen and is then reused.
class PaddedCopy {
 public:
  simdjson::padded_string_view view(std::string_view text, std::size_t readable_after) {
    if (readable_after >= simdjson::SIMDJSON_PADDING) {
      return simdjson::padded_string_view(text.data(), text.size(),
                                          text.size() + simdjson::SIMDJSON_PADDING);
    }
    const std::size_t needed = text.size() + simdjson::SIMDJSON_PADDING;
    if (capacity_ < needed) {
      capacity_ = needed;
      buffer_ = std::make_unique_for_overwrite<char[]>(capacity_);
    }
    if (!text.empty()) std::memcpy(buffer_.get(), text.data(), text.size());
    std::memset(buffer_.get() + text.size(), ' ', simdjson::SIMDJSON_PADDING);
    return simdjson::padded_string_view(buffer_.get(), text.size(), capacity_);
  }

 private:
  std::unique_ptr<char[]> buffer_;
  std::size_t capacity_ = 0;
};

// True when the document has nothing after the value just read (trailing content otherwise).
inline bool at_document_end(ondemand::document& document) {
  return document.current_location().error() == simdjson::OUT_OF_BOUNDS;
}

// A number as nlohmann types it: unsigned for an integer without '-', signed for one with (so
// "-0" stays signed), double otherwise, also for integers beyond 64 bits (nlohmann reads those
// with strtod; simdjson's double parsing is correctly rounded too). Not get_number(): simdjson
// 3.0 returns 0 from it for decimals of 19 digits or more.
inline bool read_number(ondemand::value& value, nlohmann::json& out) {
  ondemand::number_type type;
  if (value.get_number_type().get(type)) return false;
  const bool negative = value.is_negative();
  if (type == ondemand::number_type::signed_integer) {
    std::int64_t number = 0;
    if (!value.get_int64().get(number)) {
      if (negative) {
        out = number;
      } else {
        out = static_cast<std::uint64_t>(number);
      }
      return true;
    }
  } else if (type == ondemand::number_type::unsigned_integer) {
    std::uint64_t number = 0;
    if (!value.get_uint64().get(number)) {
      out = number;
      return true;
    }
  }
  // A decimal, or an integer too large for 64 bits (the failed get above consumed nothing).
  double number = 0;
  if (value.get_double().get(number)) return false;
  out = number;
  return true;
}

// Any value as the nlohmann DOM nlohmann's parser builds for it (duplicate keys: the last wins,
// as there). False on invalid JSON, or when arrays and objects nest deeper than `depth_left`.
inline bool read_value(ondemand::value value, nlohmann::json& out, int depth_left) {
  ondemand::json_type type;
  if (value.type().get(type)) return false;
  switch (type) {
    case ondemand::json_type::string: {
      std::string_view text;
      if (value.get_string().get(text)) return false;
      out = text;
      return true;
    }
    case ondemand::json_type::number:
      return read_number(value, out);
    case ondemand::json_type::boolean: {
      bool flag = false;
      if (value.get_bool().get(flag)) return false;
      out = flag;
      return true;
    }
    case ondemand::json_type::null: {
      bool is_null = false;
      if (value.is_null().get(is_null) || !is_null) return false;
      out = nullptr;
      return true;
    }
    case ondemand::json_type::array: {
      if (depth_left <= 0) return false;
      ondemand::array array;
      if (value.get_array().get(array)) return false;
      out = nlohmann::json::array();
      for (auto element : array) {
        ondemand::value item;
        if (element.get(item)) return false;
        out.push_back(nullptr);
        if (!read_value(item, out.back(), depth_left - 1)) return false;
      }
      return true;
    }
    case ondemand::json_type::object: {
      if (depth_left <= 0) return false;
      ondemand::object object;
      if (value.get_object().get(object)) return false;
      out = nlohmann::json::object();
      for (auto member : object) {
        std::string_view key;
        ondemand::value item;
        if (member.unescaped_key().get(key) || member.value().get(item)) return false;
        if (!read_value(item, out[std::string(key)], depth_left - 1)) return false;
      }
      return true;
    }
  }
  return false;
}

}  // namespace runner::logging::simdjson_values
