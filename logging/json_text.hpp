// append_json_string: writes a string as a JSON string literal, fast.
//
// The JSON Lines sink writes one record per stdout line; nlohmann's serializer allocates a json
// value per record, which at two million lines costs more than the engine takes to send them.
// Text reaching here is valid UTF-8 (the line splitter guarantees it), so only quotes,
// backslashes and control characters need escaping.
#pragma once

#include <string>
#include <string_view>

namespace runner::logging {

void append_json_string(std::string& out, std::string_view text);

}  // namespace runner::logging
