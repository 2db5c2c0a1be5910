// The syntax of component.json values that reach the Docker engine, checked before anything is
// created, so a value the engine would refuse (after runner made a working folder, or after the
// container exists) is an exit-65 config error instead.
//
// Every check is a character-class loop over a length-limited string: linear time, no regex (a
// backtracking std::regex recursed once per character and overflowed the stack on 50,000-
// character ids), no recursion. The grammars are the engine's:
//   - image references: distribution's reference grammar (github.com/distribution/reference):
//       reference  := name [":" tag] ["@" digest]
//       name       := [domain "/"] path             (at most 255 characters)
//       domain     := host [":" port]               host: domain-name | "[" IPv6 "]"
//       path       := component ("/" component)*    component: [a-z0-9]+ (sep [a-z0-9]+)*
//       sep        := "." | "_" | "__" | "-"+
//       tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
//       digest     := algorithm ":" [0-9a-fA-F]{32,}
//     The first component is the registry when it has a '.' or ':', is "localhost", or has an
//     upper-case letter (the engine's own rule); an image id (64 hex digits, optionally after
//     "sha256:") is accepted too, as `docker run` accepts it.
//   - user: name|uid[:group|gid], ids 0 to 2147483647 (the engine's range), names of letters,
//     digits, '_', '.', '-' (not starting with '-'), optionally ending in '$'.
//   - capabilities: the Linux capability names, with or without "CAP_", any case.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace runner {

inline constexpr std::size_t kMaxComponentIdLength = 255;
inline constexpr std::size_t kMaxEnvNameLength = 255;

// Letters, digits, '.', '_' and '-', starting with a letter or digit.
bool is_component_id(std::string_view id);
// A POSIX shell variable name: a letter or '_', then letters, digits and '_'.
bool is_env_name(std::string_view name);
// nullopt when `reference` is a valid image reference; else what is wrong with it.
std::optional<std::string> image_reference_problem(std::string_view reference);
// nullopt when `user` is valid; else what is wrong with it.
std::optional<std::string> user_problem(std::string_view user);
// The engine's name for a capability ("net_raw" and "CAP_NET_RAW" give "NET_RAW"), or nullopt
// when it is not one.
std::optional<std::string> capability_name(std::string_view name);

}  // namespace runner
