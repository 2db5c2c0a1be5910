// Component value syntax: see the header. Each grammar is walked left to right once.
#include "runner/component_syntax.hpp"

#include <array>

namespace runner {
namespace {

bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool is_alnum(char c) {
  return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}
bool is_word(char c) {
  return is_alnum(c) || c == '_';
}
bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool all_of(std::string_view text, bool (*ok)(char)) {
  for (const char c : text)
    if (!ok(c)) return false;
  return true;
}

// path-component := [a-z0-9]+ (sep [a-z0-9]+)*, sep := "." | "_" | "__" | "-"+
bool is_path_component(std::string_view c) {
  if (c.empty() || !is_lower_alnum(c.front()) || !is_lower_alnum(c.back())) return false;
  std::size_t i = 0;
  while (i < c.size()) {
    if (is_lower_alnum(c[i])) {
      ++i;
      continue;
    }
    // A separator run, then an alphanumeric (the last character is one, checked above).
    const std::size_t start = i;
    while (i < c.size() && !is_lower_alnum(c[i])) ++i;
    const std::string_view sep = c.substr(start, i - start);
    const bool dashes = sep.find_first_not_of('-') == std::string_view::npos;
    if (sep != "." && sep != "_" && sep != "__" && !dashes) return false;
  }
  return true;
}

// domain-component := [A-Za-z0-9] | [A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]
bool is_domain_component(std::string_view c) {
  if (c.empty() || !is_alnum(c.front()) || !is_alnum(c.back())) return false;
  for (const char ch : c)
    if (!is_alnum(ch) && ch != '-') return false;
  return true;
}

std::optional<std::string> domain_problem(std::string_view domain) {
  std::string_view host = domain;
  std::string_view port;
  if (!host.empty() && host.front() == '[') {
    const auto close = host.find(']');
    if (close == std::string_view::npos) return "the registry's IPv6 address has no closing ']'";
    const std::string_view v6 = host.substr(1, close - 1);
    if (v6.empty()) return "the registry's IPv6 address is empty";
    for (const char c : v6)
      if (!is_hex(c) && c != ':' && c != '.')
        return "the registry's IPv6 address may hold only hex digits, ':' and '.'";
    const std::string_view rest = host.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return "expected ':port' after the IPv6 address";
    if (!rest.empty()) port = rest.substr(1);
    if (!rest.empty() && port.empty()) return "the registry port after ':' is empty";
  } else {
    const auto colon = host.find(':');
    if (colon != std::string_view::npos) {
      port = host.substr(colon + 1);
      host = host.substr(0, colon);
      if (port.empty()) return "the registry port after ':' is empty";
    }
    std::size_t start = 0;
    for (;;) {
      const auto dot = host.find('.', start);
      const std::string_view part =
          host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
      if (!is_domain_component(part))
        return "the registry host \"" + std::string(host) +
               "\" is not a host name (letters, digits and '-', in parts separated by '.')";
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
  }
  if (!port.empty() && !all_of(port, [](char c) { return c >= '0' && c <= '9'; }))
    return "the registry port must be a number";
  return std::nullopt;
}

std::optional<std::string> digest_problem(std::string_view digest) {
  const auto colon = digest.find(':');
  if (colon == std::string_view::npos)
    return "the digest after '@' must be algorithm:hex, such as sha256:<64 hex digits>";
  const std::string_view algorithm = digest.substr(0, colon);
  const std::string_view hex = digest.substr(colon + 1);
  // algorithm := component ([+._-] component)*, component := [A-Za-z][A-Za-z0-9]*
  bool component_start = true;
  for (const char c : algorithm) {
    if (component_start) {
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
        return "the digest algorithm must be letters and digits, such as sha256";
      component_start = false;
    } else if (c == '+' || c == '.' || c == '_' || c == '-') {
      component_start = true;
    } else if (!is_alnum(c)) {
      return "the digest algorithm must be letters and digits, such as sha256";
    }
  }
  if (algorithm.empty() || component_start)
    return "the digest algorithm must be letters and digits, such as sha256";
  if (hex.size() < 32 || !all_of(hex, is_hex))
    return "the digest value must be at least 32 hex digits";
  return std::nullopt;
}

bool is_decimal_id(std::string_view text) {
  if (text.empty() || text.size() > 10 ||
      !all_of(text, [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  unsigned long long value = 0;
  for (const char c : text) value = value * 10 + static_cast<unsigned>(c - '0');
  return value <= 2147483647ULL;
}

std::optional<std::string> user_part_problem(std::string_view part, const char* what) {
  if (part.empty()) return std::string("the ") + what + " is empty";
  if (part.front() == '-' || part.front() == '+') {
    if (part.size() > 1 && all_of(part.substr(1), [](char c) { return c >= '0' && c <= '9'; }))
      return std::string("the ") + what + " id must be a number from 0 to 2147483647";
    return std::string("the ") + what + " name may not start with '" + part.front() + "'";
  }
  if (all_of(part, [](char c) { return c >= '0' && c <= '9'; })) {
    if (!is_decimal_id(part))
      return std::string("the ") + what + " id must be a number from 0 to 2147483647";
    return std::nullopt;
  }
  if (part.size() > 256) return std::string("the ") + what + " name is longer than 256 characters";
  std::string_view body = part;
  if (body.back() == '$') body.remove_suffix(1);
  for (const char c : body)
    if (!is_word(c) && c != '.' && c != '-')
      return std::string("the ") + what +
             " name may hold only letters, digits, '_', '.' and '-' (and end in '$')";
  if (body.empty()) return std::string("the ") + what + " name is empty";
  return std::nullopt;
}

constexpr std::array<std::string_view, 41> kCapabilities = {
    "AUDIT_CONTROL",   "AUDIT_READ",   "AUDIT_WRITE",
    "BLOCK_SUSPEND",   "BPF",          "CHECKPOINT_RESTORE",
    "CHOWN",           "DAC_OVERRIDE", "DAC_READ_SEARCH",
    "FOWNER",          "FSETID",       "IPC_LOCK",
    "IPC_OWNER",       "KILL",         "LEASE",
    "LINUX_IMMUTABLE", "MAC_ADMIN",    "MAC_OVERRIDE",
    "MKNOD",           "NET_ADMIN",    "NET_BIND_SERVICE",
    "NET_BROADCAST",   "NET_RAW",      "PERFMON",
    "SETFCAP",         "SETGID",       "SETPCAP",
    "SETUID",          "SYSLOG",       "SYS_ADMIN",
    "SYS_BOOT",        "SYS_CHROOT",   "SYS_MODULE",
    "SYS_NICE",        "SYS_PACCT",    "SYS_PTRACE",
    "SYS_RAWIO",       "SYS_RESOURCE", "SYS_TIME",
    "SYS_TTY_CONFIG",  "WAKE_ALARM"};

}  // namespace

bool is_component_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxComponentIdLength || !is_alnum(id.front())) return false;
  for (const char c : id)
    if (!is_alnum(c) && c != '.' && c != '_' && c != '-') return false;
  return true;
}

bool is_env_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxEnvNameLength) return false;
  if (!((name.front() >= 'a' && name.front() <= 'z') ||
        (name.front() >= 'A' && name.front() <= 'Z') || name.front() == '_'))
    return false;
  return all_of(name, is_word);
}

std::optional<std::string> image_reference_problem(std::string_view reference) {
  if (reference.empty()) return "it is empty";
  if (reference.size() > 512) return "it is longer than 512 characters";
  // An image id, as `docker run` takes it.
  if (reference.size() == 64 &&
      all_of(reference, [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }))
    return std::nullopt;
  std::string_view name = reference;
  if (const auto at = name.find('@'); at != std::string_view::npos) {
    if (auto problem = digest_problem(name.substr(at + 1))) return problem;
    name = name.substr(0, at);
  } else if (name.starts_with("sha256:")) {
    if (name.size() == 7 + 64 && all_of(name.substr(7), is_hex)) return std::nullopt;
  }
  const auto last_slash = name.rfind('/');
  const auto colon = name.rfind(':');
  if (colon != std::string_view::npos &&
      (last_slash == std::string_view::npos || colon > last_slash)) {
    const std::string_view tag = name.substr(colon + 1);
    if (tag.empty()) return "the tag after ':' is empty";
    if (tag.size() > 128) return "the tag is longer than 128 characters";
    if (!is_word(tag.front())) return "the tag must start with a letter, digit or '_'";
    for (const char c : tag)
      if (!is_word(c) && c != '.' && c != '-')
        return "the tag may hold only letters, digits, '_', '.' and '-'";
    name = name.substr(0, colon);
  }
  if (name.empty()) return "the repository name is empty";
  if (name.size() > 255) return "the repository name is longer than 255 characters";
  std::string_view path = name;
  if (const auto slash = name.find('/'); slash != std::string_view::npos) {
    const std::string_view first = name.substr(0, slash);
    const bool has_upper =
        first.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string_view::npos;
    if (first.find_first_of(".:") != std::string_view::npos || first == "localhost" || has_upper ||
        first.starts_with("[")) {
      if (auto problem = domain_problem(first)) return problem;
      path = name.substr(slash + 1);
    }
  }
  std::size_t start = 0;
  for (;;) {
    const auto slash = path.find('/', start);
    const std::string_view part = path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (!is_path_component(part)) {
      if (part.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string_view::npos)
        return "the repository name must be lower-case";
      if (part.empty()) return "the repository path has an empty part (\"//\" or a '/' at an end)";
      return "the repository path part \"" + std::string(part.substr(0, 40)) +
             "\" is not lower-case letters and digits separated by '.', '_', '__' or '-'";
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return std::nullopt;
}

std::optional<std::string> user_problem(std::string_view user) {
  if (user.size() > 513) return "it is longer than 513 characters";
  const auto colon = user.find(':');
  if (colon == std::string_view::npos) return user_part_problem(user, "user");
  if (user.find(':', colon + 1) != std::string_view::npos) return "it has more than one ':'";
  if (auto problem = user_part_problem(user.substr(0, colon), "user")) return problem;
  return user_part_problem(user.substr(colon + 1), "group");
}

std::optional<std::string> capability_name(std::string_view name) {
  if (name.size() > 40) return std::nullopt;
  std::string upper;
  for (const char c : name) upper += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
  if (upper.starts_with("CAP_")) upper.erase(0, 4);
  for (const auto known : kCapabilities)
    if (upper == known) return upper;
  return std::nullopt;
}

}  // namespace runner
