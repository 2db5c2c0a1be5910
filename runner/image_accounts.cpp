// ImageAccounts: see the header.
#include "runner/image_accounts.hpp"

#include "docker/engine_errors.hpp"
#include "docker/image_files.hpp"

#include <array>
#include <charconv>

namespace runner {
namespace {

std::optional<std::uint32_t> decimal_id(std::string_view text) {
  if (text.empty() || text.size() > 10) return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > 0xFFFFFFFEULL)
    return std::nullopt;
  return static_cast<std::uint32_t>(value);
}

// Splits `line` at ':' into exactly N fields; false when it has another number of them.
template <std::size_t N>
bool split_fields(std::string_view line, std::array<std::string_view, N>& fields) {
  std::size_t start = 0;
  for (std::size_t i = 0; i < N; ++i) {
    const std::size_t colon = line.find(':', start);
    if (i + 1 == N) {
      if (colon != std::string_view::npos) return false;
      fields[i] = line.substr(start);
      return true;
    }
    if (colon == std::string_view::npos) return false;
    fields[i] = line.substr(start, colon - start);
    start = colon + 1;
  }
  return false;
}

// Calls `on_line` for each line of `text` (without its '\n' or a trailing '\r') until it
// returns true.
template <typename OnLine>
void each_line(std::string_view text, OnLine on_line) {
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty() && line.front() != '#' && on_line(line)) return;
    if (end == std::string_view::npos) return;
    text.remove_prefix(end + 1);
  }
}

}  // namespace

std::optional<AccountIds> find_passwd_entry(std::string_view passwd, std::string_view name) {
  std::optional<AccountIds> found;
  each_line(passwd, [&](std::string_view line) {
    std::array<std::string_view, 7> f;
    if (!split_fields(line, f) || f[0] != name) return false;
    const auto uid = decimal_id(f[2]);
    const auto gid = decimal_id(f[3]);
    if (uid && gid) found = AccountIds{*uid, *gid};
    return found.has_value();
  });
  return found;
}

std::optional<std::uint32_t> find_group_entry(std::string_view group, std::string_view name) {
  std::optional<std::uint32_t> found;
  each_line(group, [&](std::string_view line) {
    std::array<std::string_view, 4> f;
    if (!split_fields(line, f) || f[0] != name) return false;
    found = decimal_id(f[2]);
    return found.has_value();
  });
  return found;
}

std::optional<ContainerUser> map_named_user(const ContainerUser& user,
                                            const std::optional<std::string>& passwd,
                                            const std::optional<std::string>& group,
                                            std::string& why_not) {
  const std::string_view text = user.text;
  const std::size_t colon = text.find(':');
  const std::string_view name = text.substr(0, colon);
  const std::string_view group_name =
      colon == std::string_view::npos ? std::string_view() : text.substr(colon + 1);
  std::optional<std::uint32_t> uid = decimal_id(name);
  std::optional<std::uint32_t> gid;
  if (!uid) {
    if (!passwd) {
      why_not = "the image has no /etc/passwd";
      return std::nullopt;
    }
    const auto entry = find_passwd_entry(*passwd, name);
    if (!entry) {
      why_not = "the image's /etc/passwd has no entry for \"" + std::string(name) + "\"";
      return std::nullopt;
    }
    uid = entry->uid;
    gid = entry->gid;
  }
  if (!group_name.empty()) {
    gid = decimal_id(group_name);
    if (!gid) {
      if (!group) {
        why_not = "the image has no /etc/group";
        return std::nullopt;
      }
      gid = find_group_entry(*group, group_name);
      if (!gid) {
        why_not = "the image's /etc/group has no entry for \"" + std::string(group_name) + "\"";
        return std::nullopt;
      }
    }
  }
  ContainerUser mapped = user;
  mapped.kind = *uid == 0 ? UserKind::root : UserKind::numeric;
  mapped.uid = *uid;
  // A uid with no group: docker's default group for a numeric user is 0, but the folders only
  // need the uid (as resolve_container_user does); a name brings its primary group.
  mapped.gid = gid.value_or(*uid);
  return mapped;
}

ContainerUser map_user_through_image(docker::EngineClient& client, const std::string& image,
                                     const ContainerUser& user, const std::string& container_name,
                                     const std::map<std::string, std::string>& labels,
                                     std::string& why_not) {
  try {
    docker::ImageFiles files(client, image, container_name, labels);
    const auto passwd = files.read("/etc/passwd", kAccountFileLimit);
    const auto group = files.read("/etc/group", kAccountFileLimit);
    if (auto mapped = map_named_user(user, passwd, group, why_not)) return *mapped;
  } catch (const docker::EngineError& e) {
    why_not = std::string("the image's /etc/passwd could not be read: ") + e.what();
  }
  return user;
}

}  // namespace runner
