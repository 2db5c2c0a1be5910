// ContainerUser: see the header.
#include "runner/container_user.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <string_view>

namespace runner {
namespace {

std::optional<unsigned long> number(std::string_view text) {
  if (text.empty() || text.size() > 10) return std::nullopt;
  unsigned long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > 0xFFFFFFFEUL)
    return std::nullopt;
  return value;
}

std::optional<unsigned long> env_number(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::nullopt : number(value);
}

}  // namespace

std::string ContainerUser::describe() const {
  switch (kind) {
    case UserKind::root:
      return "root";
    case UserKind::numeric:
      if (!number(std::string_view(text).substr(0, text.find(':'))))  // a name the image mapped
        return "user \"" + text + "\" (uid " + std::to_string(uid) + ", gid " +
               std::to_string(gid) + ")";
      return "uid " + std::to_string(uid) +
             (text.find(':') != std::string::npos ? " (gid " + std::to_string(gid) + ")"
                                                  : std::string());
    case UserKind::named:
      return "user \"" + text + "\"";
    case UserKind::several:
      return "users " + text;
    case UserKind::unknown:
      break;
  }
  return "the image's user (not known before the pull)";
}

ContainerUser resolve_container_user(const std::string& component_user,
                                     const std::optional<std::string>& image_user) {
  ContainerUser user;
  if (component_user.empty() && !image_user) {
    user.kind = UserKind::unknown;
    return user;
  }
  user.text = component_user.empty() ? *image_user : component_user;
  const auto colon = user.text.find(':');
  const std::string_view name = std::string_view(user.text).substr(0, colon);
  const std::string_view group = colon == std::string::npos
                                     ? std::string_view()
                                     : std::string_view(user.text).substr(colon + 1);
  if (name.empty() || name == "root" || name == "0") {
    user.kind = UserKind::root;
    return user;
  }
  const auto uid = number(name);
  const auto gid = group.empty() ? uid : number(group);
  if (!uid || !gid) {
    user.kind = UserKind::named;  // a name, or a uid with a group name: only the image knows
    return user;
  }
  user.kind = UserKind::numeric;
  user.uid = static_cast<uid_t>(*uid);
  user.gid = static_cast<gid_t>(*gid);
  return user;
}

ContainerUser shared_user(const std::vector<ContainerUser>& users) {
  auto same = [](const ContainerUser& a, const ContainerUser& b) {
    if (a.kind != b.kind) return false;
    if (a.kind == UserKind::numeric) return a.uid == b.uid && a.gid == b.gid;
    return a.kind == UserKind::unknown || a.text == b.text;
  };
  std::vector<ContainerUser> others;
  for (const auto& user : users)
    if (!user.root() && std::none_of(others.begin(), others.end(),
                                     [&](const ContainerUser& o) { return same(o, user); }))
      others.push_back(user);
  if (others.empty()) return ContainerUser{};
  if (others.size() == 1) return others.front();
  ContainerUser several;
  several.kind = UserKind::several;
  for (const auto& user : others)
    several.text += (several.text.empty() ? "" : ", ") + user.describe();
  return several;
}

HostOwner host_owner_of(const std::string& data_dir) {
  const auto sudo_uid = env_number("SUDO_UID");
  const auto sudo_gid = env_number("SUDO_GID");
  if (::geteuid() == 0 && sudo_uid && sudo_gid)
    return {static_cast<uid_t>(*sudo_uid), static_cast<gid_t>(*sudo_gid)};
  struct stat info {};
  if (::stat(data_dir.c_str(), &info) == 0) return {info.st_uid, info.st_gid};
  return {::geteuid(), ::getegid()};
}

}  // namespace runner
