// Character classes of JSON text (RFC 8259), shared by the hand-written scanners for Kestra
// protocol payloads and GELF messages. Inline and header-only, so the GELF library uses them
// without linking runner_logging.
#pragma once

namespace runner::logging {

inline bool is_json_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}
inline bool is_json_digit(char c) {
  return c >= '0' && c <= '9';
}
// The value of a hex digit, or -1.
inline int json_hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace runner::logging
