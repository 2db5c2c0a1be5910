// Kestra's namespace rule, shared by component.json and the shipper config: lower-case words of
// letters, digits, '_' and '-' separated by single dots ("company.team"), each word starting with
// a letter or digit; "a.b" is a child of "a". A character-class loop (linear, no regex), with a
// length limit so that a name can always be shown and stored.
#pragma once

#include <cstddef>
#include <string_view>

namespace runner::logging {

inline constexpr std::size_t kMaxNamespaceLength = 255;

bool is_kestra_namespace(std::string_view name);

}  // namespace runner::logging
