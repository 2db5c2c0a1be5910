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

// Gives `top` and everything below it to uid:gid; false when the host refuses (runner is not
// root), so the caller opens the folders instead.
bool chown_tree(const fs::path& top, uid_t uid, gid_t gid) {
  if (::lchown(top.c_str(), uid, gid) != 0) return false;
  if (!fs::is_directory(fs::symlink_status(top))) return true;
  for (const auto& entry : fs::recursive_directory_iterator(top))
    if (::lchown(entry.path().c_str(), uid, gid) != 0) return false;
  return true;
}

// Folders 0777 and files 0644 from `top` down (see the header: only below the 0700 root).
void open_tree(const fs::path& top) {
  auto open_one = [](const fs::path& path, bool folder) {
    fs::permissions(path,
                    folder ? fs::perms::all
                           : fs::perms::owner_read | fs::perms::owner_write |
                                 fs::perms::group_read | fs::perms::others_read,
                    fs::perm_options::replace);
  };
  open_one(top, fs::is_directory(fs::symlink_status(top)));
  if (!fs::is_directory(fs::symlink_status(top))) return;
  for (const auto& entry : fs::recursive_directory_iterator(top))
    if (!entry.is_symlink()) open_one(entry.path(), entry.is_directory());
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
                           bool keep, const std::optional<nlohmann::json>& config,
                           const ContainerUser& user)
    : user_(user), keep_(keep) {
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
    make_data_folders();
    fs::create_directories(tmp_dir_);
    if (config) {
      write_private_file(data_dir_ / "config.json", config->dump(2) + "\n");
      wrote_config_ = true;
    } else if (!user_data_dir_) {
      throw InternalError("a private working folder needs a configuration to write");
    }

    give_to_container(user);
  } catch (...) {
    fs::remove_all(root_, ec);
    throw;
  }
}

void JobWorkspace::make_data_folders() const {
  // In a user's folder, what runner makes is theirs like the outputs (host_owner_of), not root's.
  std::vector<fs::path> made;
  for (const char* sub :
       {"in", "in/tables", "in/files", "in/user", "out", "out/tables", "out/files"}) {
    const fs::path path = data_dir_ / sub;
    std::error_code ec;
    if (fs::exists(fs::symlink_status(path, ec))) continue;
    fs::create_directories(path);
    made.push_back(path);
  }
  if (!user_data_dir_ || made.empty()) return;
  const HostOwner owner = host_owner_of(data_dir_.string());
  for (const auto& path : made)
    if (::lchown(path.c_str(), owner.uid, owner.gid) != 0) {
      // runner not root: the folder is runner's, which is then the folder owner anyway
    }
}

void JobWorkspace::give_to_container(const ContainerUser& user) {
  if (user.root()) return;
  const bool numeric = user.kind == UserKind::numeric;
  // The private data folder (or the config.json runner wrote into a user's folder) and tmp/.
  std::vector<fs::path> trees = {tmp_dir_};
  if (!user_data_dir_) trees.push_back(data_dir_);
  if (user_data_dir_ && wrote_config_) trees.push_back(data_dir_ / "config.json");
  for (const auto& tree : trees) {
    if (numeric && chown_tree(tree, user.uid, user.gid)) continue;
    open_tree(tree);
    if (tree == tmp_dir_)
      fs::permissions(tmp_dir_, fs::perms::all | fs::perms::sticky_bit, fs::perm_options::replace);
  }
}

void JobWorkspace::write_data_file(const std::string& relative, const std::string& content) const {
  const fs::path path = data_dir_ / relative;
  std::error_code ec;
  const bool existed = fs::exists(fs::symlink_status(path, ec));
  if (existed && fs::is_symlink(fs::symlink_status(path, ec))) fs::remove(path, ec);
  write_private_file(path, content);
  // A file runner made in a user's folder goes after the run; one it replaced (asked to) stays.
  if (user_data_dir_ && !existed) created_.push_back(path);
  if (user_.root()) return;
  if (user_.kind == UserKind::numeric && ::chown(path.c_str(), user_.uid, user_.gid) == 0) return;
  fs::permissions(path,
                  fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                      fs::perms::others_read,
                  fs::perm_options::replace);
}

JobWorkspace::~JobWorkspace() {
  std::error_code ec;
  if (keep_) {
    fs::remove(root_ / kWorkspaceOwnerFile, ec);  // kept on purpose: not an orphan for `runner gc`
    return;
  }
  if (user_data_dir_ && wrote_config_) fs::remove(data_dir_ / "config.json", ec);
  for (const auto& file : created_) fs::remove(file, ec);
  fs::remove_all(root_, ec);
}

}  // namespace runner
