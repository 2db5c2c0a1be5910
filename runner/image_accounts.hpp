// ImageAccounts: the host uid and gid of a named container user ("app", "app:staff",
// "1000:staff"), read from the image's own /etc/passwd and /etc/group, as the engine resolves
// them when it starts the container.
//
// Knowing the numbers lets JobWorkspace and DataDirAccess chown the job's folders to the user
// instead of opening them to everyone (container_user.hpp). Docker's rules: a user name is the
// passwd entry's uid, with that entry's primary gid unless a group is given; a group name is the
// /etc/group entry's gid; a number stays a number. Both files are untrusted (the image's author
// made them): read through ImageFiles (docker/image_files.hpp) up to 1 MiB each, split into
// lines and fields without any regular expression; a line that is not exactly 7 (passwd) or 4
// (group) fields with decimal ids is ignored, never half-used. When a file is missing, the name
// is not in it, or the engine cannot give it, the user stays named (folders opened below the
// 0700 root, as before) and the caller says why in a debug event.
#pragma once

#include "docker/engine_client.hpp"
#include "runner/container_user.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace runner {

inline constexpr std::uint64_t kAccountFileLimit = 1024 * 1024;

// A passwd entry's uid and primary gid, or nullopt when `name` has no well-formed entry.
struct AccountIds {
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
};
std::optional<AccountIds> find_passwd_entry(std::string_view passwd, std::string_view name);
// A group entry's gid, or nullopt when `name` has no well-formed entry.
std::optional<std::uint32_t> find_group_entry(std::string_view group, std::string_view name);

// `user` (named) with its numbers from the two files' texts (nullopt: the file is not in the
// image), or the reason it cannot be mapped (`why_not`, for a debug event).
std::optional<ContainerUser> map_named_user(const ContainerUser& user,
                                            const std::optional<std::string>& passwd,
                                            const std::optional<std::string>& group,
                                            std::string& why_not);

// The same, reading the files from `image` through the engine (a container created and removed,
// named `container_name` and carrying `labels`). Returns `user` unchanged when it cannot be
// mapped, with the reason in `why_not`.
ContainerUser map_user_through_image(docker::EngineClient& client, const std::string& image,
                                     const ContainerUser& user, const std::string& container_name,
                                     const std::map<std::string, std::string>& labels,
                                     std::string& why_not);

}  // namespace runner
