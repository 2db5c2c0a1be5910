// JobWorkspace: see the header.
#include "runner/job_workspace.hpp"

#include "runner/errors.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace runner {
namespace fs = std::filesystem;
namespace {

std::optional<std::pair<uid_t, gid_t>> numeric_user(const std::string& user) {
  if (user.empty()) return std::nullopt;
  const auto colon = user.find(':');
  const std::string u = user.substr(0, colon);
  const std::string g = colon == std::string::npos ? u : user.substr(colon + 1);
  auto all_digits = [](const std::string& s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
  };
  if (!all_digits(u) || !all_digits(g)) return std::nullopt;
  return std::make_pair(static_cast<uid_t>(std::stoul(u)), static_cast<gid_t>(std::stoul(g)));
}

void write_private_file(const fs::path& path, const std::string& content) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw InternalError("cannot write " + path.string() + ": " + std::strerror(errno));
  ::fchmod(fd, 0600);
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      throw InternalError("cannot write " + path.string() + ": " + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
}

}  // namespace

fs::path workspace_parent() {
  const char* tmp = std::getenv("TMPDIR");
  return tmp != nullptr && *tmp != '\0' ? fs::path(tmp) : fs::path("/tmp");
}

JobWorkspace::JobWorkspace(const std::string& job_id, const std::optional<fs::path>& data_dir,
                           bool keep, const nlohmann::json& config, const std::string& user)
    : keep_(keep) {
  std::string pattern = workspace_parent().string() + "/runner-" + job_id.substr(0, 13) + "-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr)
    throw InternalError("cannot create the job's working folder " + pattern + ": " +
                        std::strerror(errno));
  root_ = fs::absolute(pattern);
  fs::permissions(root_, fs::perms::owner_all, fs::perm_options::replace);
  std::error_code ec;
  try {
    // Who owns the folder: if this process dies without cleaning up (SIGKILL), `runner gc`
    // finds the folder, and the plaintext configuration in it, by this file.
    write_private_file(root_ / kWorkspaceOwnerFile, std::to_string(::getpid()) + "\n");
    if (data_dir) {
      user_data_dir_ = true;
      data_dir_ = fs::absolute(*data_dir);
      if (!fs::is_directory(data_dir_, ec))
        throw UsageError("--data-dir " + data_dir->string() + ": not an existing folder");
    } else {
      data_dir_ = root_ / "data";
    }
    tmp_dir_ = root_ / "tmp";
    for (const char* sub : {"in/tables", "in/files", "in/user", "out/tables", "out/files"})
      fs::create_directories(data_dir_ / sub);
    fs::create_directories(tmp_dir_);
    write_private_file(data_dir_ / "config.json", config.dump(2) + "\n");

    if (auto ids = numeric_user(user)) {
      // The container runs as this user: give it the folders it must write to.
      auto chown_tree = [&](const fs::path& top) {
        if (::chown(top.c_str(), ids->first, ids->second) != 0 || !fs::is_directory(top)) return;
        for (const auto& entry : fs::recursive_directory_iterator(top))
          if (::lchown(entry.path().c_str(), ids->first, ids->second) != 0) return;
      };
      chown_tree(user_data_dir_ ? data_dir_ / "config.json" : data_dir_);
      chown_tree(tmp_dir_);
    } else if (!user.empty()) {
      // A named user we cannot resolve on the host: open the folders up inside the private root.
      fs::permissions(tmp_dir_, fs::perms::all | fs::perms::sticky_bit, fs::perm_options::replace);
      if (!user_data_dir_)
        for (const auto& entry : fs::recursive_directory_iterator(data_dir_))
          fs::permissions(entry.path(),
                          entry.is_directory() ? fs::perms::all
                                               : fs::perms::owner_read | fs::perms::owner_write |
                                                     fs::perms::group_read | fs::perms::others_read,
                          fs::perm_options::replace);
      if (!user_data_dir_) fs::permissions(data_dir_, fs::perms::all, fs::perm_options::replace);
    }
  } catch (...) {
    fs::remove_all(root_, ec);
    throw;
  }
}

JobWorkspace::~JobWorkspace() {
  std::error_code ec;
  if (keep_) {
    fs::remove(root_ / kWorkspaceOwnerFile, ec);  // kept on purpose: not an orphan for `runner gc`
    return;
  }
  if (user_data_dir_) fs::remove(data_dir_ / "config.json", ec);
  fs::remove_all(root_, ec);
}

}  // namespace runner
