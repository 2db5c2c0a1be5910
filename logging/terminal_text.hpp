// Terminal text: what of a component's text may reach the operator's terminal.
//
// Component output is untrusted: "\033[1A\033[2K\r" followed by a fake "Job ... succeeded" line
// overwrote runner's real summary, and OSC sequences set the window title (or, on some
// terminals, the clipboard). Everything a terminal would act on is therefore made visible
// instead of being sent: C0 controls and DEL become their Unicode control pictures (ESC shows as
// U+241B, NUL as U+2400), so an escape sequence reads as "␛[1A"; C1 controls (U+0080-U+009F,
// which some terminals take as CSI and OSC) and the bidirectional overrides and isolates
// (U+202A-U+202E, U+2066-U+2069, which reorder what is shown) become "\u009b"; bytes that are
// not UTF-8 become "\xff". Tabs are kept. Only the terminal view is neutralised: --events and
// the store keep the exact text, JSON-escaped.
//
// A carriage return is rendered by one function (append_carriage_return), visibly for now, so
// that treating it as terminals do (progress bars) is one change in one place.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace runner::logging {

// Appends `text` neutralised. Each '\n' is written as `line_break` when one is given (a message's
// continuation lines, indented), else shown as U+240A like the other controls (a field value,
// which stays on its line).
void append_terminal_text(std::string& out, std::string_view text,
                          std::optional<std::string_view> line_break = std::nullopt);
// The same, returned.
std::string terminal_text(std::string_view text,
                          std::optional<std::string_view> line_break = std::nullopt);
// What a '\r' in component text becomes on the terminal.
void append_carriage_return(std::string& out);

}  // namespace runner::logging
