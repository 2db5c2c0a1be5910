// Masker: the one masking rule for everything a job writes, and the types that say "masked".
//
// Text is masked as text: every form of every secret (secret_scrubber.hpp) becomes "[hidden]".
// Structured data is masked *after* it is decoded, value by value, so that its structure
// survives and nothing decoded escapes unmasked: a string (and an object key) is masked inside
// ("postgres://bob:[hidden]@db"), and a number, boolean or null whose text holds a secret
// becomes the string "[hidden]" (`"#pin": "1234"` turns 1234 into "[hidden]"). Masking JSON text
// instead (dump, replace, parse) breaks it ({"n":[hidden]} is not JSON) and misses a secret
// written with an escape the forms do not list ("Kestra\u0053ekrit"): both were bugs.
//
// MaskedText and MaskedJson are what sinks accept (EventLog's masked overloads): only a Masker
// (or MaskedLineStream, the streaming form for output lines) makes them, so an unmasked string
// cannot reach a sink by a forgotten call. Both are views: of the input when there was nothing
// to mask (no copy on the hot path), else of storage the caller owns. assume_masked() is the one
// way around, for text built only of masked parts and constants (a record's JSON members made
// from masked values); each use says why.
//
// A Masker without secrets masks nothing and costs nothing. It is a small value (a shared
// pointer to the immutable SecretMatcher) and safe to use from several threads.
#pragma once

#include "secrets/secret_scrubber.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace runner::secrets {

class MaskedText {
 public:
  MaskedText() = default;
  std::string_view view() const { return text_; }
  bool empty() const { return text_.empty(); }
  // Text that holds no secret because it is made only of masked parts and constants.
  static MaskedText assume_masked(std::string_view text) { return MaskedText(text); }

 private:
  friend class Masker;
  friend class MaskedLineStream;
  explicit MaskedText(std::string_view text) : text_(text) {}
  std::string_view text_;
};

class MaskedJson {
 public:
  const nlohmann::json& json() const { return *value_; }

 private:
  friend class Masker;
  explicit MaskedJson(const nlohmann::json& value) : value_(&value) {}
  const nlohmann::json* value_;
};

class Masker {
 public:
  // Values nested deeper than this are masked as one text (their JSON) instead of value by value.
  static constexpr int kMaxDepth = 256;

  Masker() = default;  // no secrets
  explicit Masker(std::shared_ptr<const SecretMatcher> matcher);
  explicit Masker(const std::vector<std::string>& secrets);

  bool empty() const { return matcher_ == nullptr; }
  // Null when there are no secrets.
  const std::shared_ptr<const SecretMatcher>& matcher() const { return matcher_; }

  // `text` masked: a view of `text` when nothing had to change, else of `storage`.
  MaskedText mask(std::string_view text, std::string& storage) const;
  // The same, as an owned string (for texts that are kept, such as a summary's message).
  std::string mask_copy(std::string_view text) const;
  // The part of `text`, a stream's text that more may follow, that is final now: masked, less
  // the bytes at its end that may be the beginning of a secret (a line still being written).
  MaskedText mask_prefix(std::string_view text, std::string& storage) const;

  // `value` masked value by value: a view of `value` when there are no secrets, else of
  // `storage`, which receives the masked copy.
  MaskedJson mask(const nlohmann::json& value, nlohmann::json& storage) const;
  // Masks `value` in place.
  void mask_in_place(nlohmann::json& value) const;

  // Whether the JSON text `payload` may decode to a value holding a secret: a form of a secret
  // in its text, an escape (which may spell one), or, when a secret looks like a number, a
  // fraction or exponent (a number re-encoded may read differently). False means its decoded
  // values are the bytes of the text, so reading it as it is cannot reveal a secret.
  bool may_hold_secret(std::string_view payload) const;
  // For a parser that reads JSON payloads (the Kestra protocol): when the payload may hold a
  // secret, sets `masked` to what to read instead and returns true. A valid payload becomes its
  // masked values re-encoded (nested at most `max_depth` deep, else as invalid); an invalid one
  // is masked with mask_json_text (it is only quoted in a warning).
  bool mask_payload(std::string_view payload, std::string& masked, int max_depth = 128) const;
  // Text that is or looks like JSON (a protocol line quoted in a warning, valid or not): every
  // string literal with an escape is decoded and, when it holds a secret, replaced by its masked
  // value re-encoded; then the whole is masked as text.
  std::string mask_json_text(std::string_view text) const;

 private:
  void mask_value(nlohmann::json& value, int depth) const;

  std::shared_ptr<const SecretMatcher> matcher_;
  bool numeric_secret_ = false;  // some secret's form could be the text of a JSON number
};

}  // namespace runner::secrets
