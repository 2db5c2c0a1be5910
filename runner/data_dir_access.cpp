// A user's --data-dir around a job: see the header.
#include "runner/data_dir_access.hpp"

#include "runner/errors.hpp"
#include "secrets/config_cipher.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace runner {
namespace fs = std::filesystem;
namespace {

// Whether `user` may read (and, for a folder, enter) `path` by its mode bits.
bool readable_by(const struct stat& info, const ContainerUser& user) {
  const mode_t need_other = S_ISDIR(info.st_mode) ? (S_IROTH | S_IXOTH) : S_IROTH;
  if ((info.st_mode & need_other) == need_other) return true;
  if (user.kind != UserKind::numeric) return false;
  if (info.st_uid == user.uid) {
    const mode_t need = S_ISDIR(info.st_mode) ? (S_IRUSR | S_IXUSR) : S_IRUSR;
    return (info.st_mode & need) == need;
  }
  if (info.st_gid == user.gid) {
    const mode_t need = S_ISDIR(info.st_mode) ? (S_IRGRP | S_IXGRP) : S_IRGRP;
    return (info.st_mode & need) == need;
  }
  return false;
}

std::string refused_message(std::size_t refused, const fs::path& data_dir, const HostOwner& owner) {
  return fmt::format(
      "{} output file(s) in {} stay owned by the container's user: only a runner running as "
      "root can give them to uid {}",
      refused, (data_dir / "out").string(), owner.uid);
}

}  // namespace

std::vector<std::string> give_outputs_back(const fs::path& data_dir) {
  const HostOwner owner = host_owner_of(data_dir.string());
  std::size_t refused = 0;
  std::error_code ec;
  const fs::path out = data_dir / "out";
  struct stat top {};
  if (::lstat(out.c_str(), &top) != 0 || !S_ISDIR(top.st_mode)) return {};
  if ((top.st_uid != owner.uid || top.st_gid != owner.gid) &&
      ::lchown(out.c_str(), owner.uid, owner.gid) != 0)
    ++refused;
  for (auto it = fs::recursive_directory_iterator(out, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    struct stat info {};
    if (::lstat(it->path().c_str(), &info) != 0) continue;
    if (info.st_uid == owner.uid && info.st_gid == owner.gid) continue;
    if (::lchown(it->path().c_str(), owner.uid, owner.gid) != 0) ++refused;
  }
  if (refused == 0) return {};
  return {refused_message(refused, data_dir, owner)};
}

JobConfig choose_config(const ComponentSpec& spec, const nlohmann::json& generated,
                        const std::optional<fs::path>& data_dir) {
  JobConfig chosen;
  const fs::path file = data_dir ? fs::absolute(*data_dir) / "config.json" : fs::path();
  std::error_code ec;
  if (!data_dir || !fs::exists(fs::symlink_status(file, ec))) {
    chosen.generated = generated;
    return chosen;
  }
  if (spec.parameters_given)
    throw ConfigError({"$.parameters: given, but --data-dir " + data_dir->string() +
                       " already holds a config.json: runner would have to replace the file "
                       "you wrote; remove `parameters` from the component to use the file, or "
                       "move the file away"});
  nlohmann::json doc;
  try {
    doc = read_json_file(file);
  } catch (const ConfigError& e) {
    std::vector<std::string> lines;
    for (const auto& line : e.problems()) lines.push_back(file.string() + ": " + line);
    throw ConfigError(std::move(lines));
  }
  if (!doc.is_object())
    throw ConfigError({file.string() + ": expected a JSON object (Keboola's config.json)"});
  // Only the '#' values are wanted here; ciphertexts stay as the user wrote them.
  chosen.secrets = secrets::decrypt_and_collect(doc, std::nullopt).secrets;
  chosen.users_file = file;
  chosen.users_config = std::move(doc);
  return chosen;
}

OutputsFound existing_outputs(const fs::path& data_dir) {
  OutputsFound found;
  std::error_code ec;
  const fs::path out = data_dir / "out";
  if (!fs::is_directory(out, ec)) return found;
  for (auto it = fs::recursive_directory_iterator(out, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) continue;
    ++found.files;
    if (found.example.empty()) found.example = fs::relative(it->path(), data_dir, ec).string();
  }
  return found;
}

std::size_t clear_outputs(const fs::path& data_dir) {
  std::size_t removed = 0;
  std::error_code ec;
  const fs::path out = data_dir / "out";
  if (!fs::is_directory(fs::symlink_status(out, ec))) return 0;
  for (const auto& entry : fs::directory_iterator(out, ec)) {
    const auto gone = fs::remove_all(entry.path(), ec);
    if (ec)
      throw UserError("--clean-out: cannot remove " + entry.path().string() + ": " + ec.message());
    removed += static_cast<std::size_t>(gone);
  }
  return removed;
}

DataDirAccess::DataDirAccess(fs::path data_dir, const ContainerUser& user)
    : data_dir_(std::move(data_dir)) {
  if (user.root()) return;
  for (const char* sub : {"", "in", "in/tables", "in/files", "in/user", "config.json"}) {
    const fs::path path = *sub == '\0' ? data_dir_ : data_dir_ / sub;
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0 || readable_by(info, user)) continue;
    warnings_.push_back(fmt::format(
        "The container runs as {}, which cannot read {} (mode {:04o}): give it read access "
        "(chmod o+r{}) or run the component as the folder's owner",
        user.describe(), path.string(), info.st_mode & 07777, S_ISDIR(info.st_mode) ? "x" : ""));
  }
  for (const char* sub : {"out", "out/tables", "out/files"}) {
    const fs::path path = data_dir_ / sub;
    struct stat info {};
    if (::lstat(path.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) continue;
    saved_.push_back({path, info.st_uid, info.st_gid, static_cast<mode_t>(info.st_mode & 07777)});
    // A numeric uid gets the folder for the run; anyone else (or when chown is refused, runner
    // not being root) finds it open to all for the run: the user chose to share the folder.
    const bool given = user.kind == UserKind::numeric &&
                       ::chown(path.c_str(), user.uid, user.gid) == 0 &&
                       ::chmod(path.c_str(), info.st_mode | S_IRWXU) == 0;
    if (!given && ::chmod(path.c_str(), 0777) != 0)
      throw UserError(fmt::format("cannot let the container's {} write {}: {}", user.describe(),
                                  path.string(), std::strerror(errno)));
  }
}

DataDirAccess::~DataDirAccess() {
  try {
    give_back();
  } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor must not throw
  }
}

std::vector<std::string> DataDirAccess::give_back() {
  std::vector<std::string> problems;
  if (given_back_) return problems;
  given_back_ = true;
  // The folders get their modes back; they and everything below out/ go to the host user (a root
  // container's outputs too: Keboola fixes the data folder's owners after a root run).
  for (const auto& s : saved_)
    if (::chmod(s.path.c_str(), s.mode) != 0)
      problems.push_back("cannot restore the mode of " + s.path.string() + ": " +
                         std::strerror(errno));
  for (auto& problem : give_outputs_back(data_dir_)) problems.push_back(std::move(problem));
  return problems;
}

}  // namespace runner
