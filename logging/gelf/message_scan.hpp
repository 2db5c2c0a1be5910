// The fast path of GELF message validation: a single pass over the text that fills a GelfMessage
// in place, without nlohmann's lexer, DOM or validation walks (those cost ~3.7 us of the ~4 us a
// message may take at 250,000 msg/s).
//
// It accepts only messages that are valid JSON and valid GELF, and for those it produces exactly
// what the nlohmann path of parse_gelf_message_into produces (same fields, same JSON types).
// Anything it does not fully handle it declines, leaving `message` untouched, and the caller then
// runs the nlohmann path, which also words the errors: every invalid message, duplicate keys,
// escaped keys, escaped host/level/timestamp/version strings, more than 64 fields, a BOM.
// Nested arrays and objects are located by a bracket scan and parsed by nlohmann on their own.
//
// Declared here so that tests can see whether it declined; defined in message.cpp next to the
// rules it mirrors (builds that compile message.cpp alone, like the fuzz target, need no change).
#pragma once

#include "logging/gelf/message.hpp"

#include <string_view>

namespace runner::logging::gelf {

// True when `json_text` was accepted and `message` now holds it; false when declined.
bool scan_gelf_message(std::string_view json_text, GelfMessage& message);

}  // namespace runner::logging::gelf
