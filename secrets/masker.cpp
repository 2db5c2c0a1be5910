// Masker: see the header. The tree walk replaces runner/gelf_logging.cpp's scrub_json (strings
// and keys masked inside) and adds what it lacked: numbers, booleans and null whose text holds a
// secret become "[hidden]", and depth is bounded.
#include "secrets/masker.hpp"

#include <algorithm>

namespace runner::secrets {
namespace {

bool number_like(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
  }) && std::any_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool holds_match(const SecretMatcher& matcher, std::string_view text) {
  std::vector<SecretMatcher::Match> matches;
  matcher.find_matches(text, matches);
  return !matches.empty();
}

}  // namespace

Masker::Masker(std::shared_ptr<const SecretMatcher> matcher) {
  if (!matcher || matcher->empty()) return;
  matcher_ = std::move(matcher);
  numeric_secret_ = std::any_of(matcher_->patterns().begin(), matcher_->patterns().end(),
                                [](const std::string& p) { return number_like(p); });
}

Masker::Masker(const std::vector<std::string>& secrets)
    : Masker(std::make_shared<const SecretMatcher>(secrets)) {}

MaskedText Masker::mask(std::string_view text, std::string& storage) const {
  if (empty() || !holds_match(*matcher_, text)) return MaskedText(text);
  storage = scrub_text(*matcher_, text);
  return MaskedText(storage);
}

std::string Masker::mask_copy(std::string_view text) const {
  if (empty()) return std::string(text);
  return scrub_text(*matcher_, text);
}

MaskedText Masker::mask_prefix(std::string_view text, std::string& storage) const {
  if (empty()) return MaskedText(text);
  SecretScrubber scrubber(matcher_);
  storage.clear();
  scrubber.write(text, storage);
  return MaskedText(storage);
}

MaskedJson Masker::mask(const nlohmann::json& value, nlohmann::json& storage) const {
  if (empty()) return MaskedJson(value);
  storage = value;
  mask_value(storage, 0);
  return MaskedJson(storage);
}

void Masker::mask_in_place(nlohmann::json& value) const {
  if (!empty()) mask_value(value, 0);
}

void Masker::mask_value(nlohmann::json& value, int depth) const {
  using nlohmann::json;
  if (depth >= kMaxDepth) {
    value = scrub_text(*matcher_, value.dump(-1, ' ', false, json::error_handler_t::replace));
    return;
  }
  switch (value.type()) {
    case json::value_t::string: {
      const auto& text = value.get_ref<const std::string&>();
      if (holds_match(*matcher_, text)) value = scrub_text(*matcher_, text);
      return;
    }
    case json::value_t::array:
      for (auto& item : value) mask_value(item, depth + 1);
      return;
    case json::value_t::object: {
      bool keys_clean = true;
      for (const auto& item : value.items())
        keys_clean = keys_clean && !holds_match(*matcher_, item.key());
      if (keys_clean) {
        for (auto& item : value) mask_value(item, depth + 1);
        return;
      }
      json clean = json::object();
      for (auto& [key, item] : value.items()) {
        json copy = std::move(item);
        mask_value(copy, depth + 1);
        clean[scrub_text(*matcher_, key)] = std::move(copy);
      }
      value = std::move(clean);
      return;
    }
    case json::value_t::discarded:
    case json::value_t::binary:
      return;
    default:  // numbers, booleans, null: hidden whole when their text holds a secret
      if (holds_match(*matcher_, value.dump())) value = std::string(kHiddenMarker);
      return;
  }
}

bool Masker::may_hold_secret(std::string_view payload) const {
  if (empty()) return false;
  if (payload.find('\\') != std::string_view::npos) return true;
  if (numeric_secret_ && payload.find_first_of(".eE") != std::string_view::npos) return true;
  return holds_match(*matcher_, payload);
}

bool Masker::mask_payload(std::string_view payload, std::string& masked, int max_depth) const {
  if (!may_hold_secret(payload)) return false;
  bool too_deep = false;
  nlohmann::json value = nlohmann::json::parse(
      payload,
      [&](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
        if (depth > max_depth) too_deep = true;
        return !too_deep;
      },
      false);
  if (too_deep || value.is_discarded()) {
    masked = mask_json_text(payload);
    return true;
  }
  mask_value(value, 0);
  masked = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return true;
}

std::string Masker::mask_json_text(std::string_view text) const {
  if (empty()) return std::string(text);
  std::string out;
  out.reserve(text.size());
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t open = text.find('"', at);
    if (open == std::string_view::npos) break;
    std::size_t close = open + 1;
    bool escaped = false;
    while (close < text.size() && text[close] != '"') {
      if (text[close] == '\\') {
        escaped = true;
        ++close;
      }
      ++close;
    }
    if (close >= text.size()) break;  // an unterminated string: left to the text masking
    const std::string_view literal = text.substr(open, close - open + 1);
    out.append(text.substr(at, open - at));
    const nlohmann::json decoded =
        escaped ? nlohmann::json::parse(literal, nullptr, false) : nlohmann::json();
    if (decoded.is_string() && holds_match(*matcher_, decoded.get_ref<const std::string&>())) {
      out += nlohmann::json(scrub_text(*matcher_, decoded.get_ref<const std::string&>()))
                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    } else {
      out.append(literal);
    }
    at = close + 1;
  }
  out.append(text.substr(std::min(at, text.size())));
  return scrub_text(*matcher_, out);
}

}  // namespace runner::secrets
