// JobWorkspace: the folders a job's container sees at /data and /tmp.
//
// By default a private folder (mode 0700) under $TMPDIR is made per job with Keboola's layout,
// data/in/{tables,files,user}, data/out/{tables,files}, data/config.json (0600) and tmp/, and
// removed after the run unless kept. With --data-dir the user's folder is the data folder (the
// local development loop); only the generated config.json and the scratch tmp/ are removed then,
// and a config.json the user wrote there (config nullopt) is used as it is and never removed.
//
// The container's user (container_user.hpp) gets what it must read and write. The private root
// stays 0700 and runner's own in every case: that mode is what keeps other host users out. The
// container does not resolve paths through the root (its /data and /tmp are the mount points
// inside it), so the modes and owners below the root matter only to it. A numeric user gets
// data/ and tmp/ chowned to it (nothing opened to anyone else); a named user, or one not known
// yet (the image is pulled later), cannot be mapped to a host uid, so the folders below the root
// are opened (folders 0777, tmp/ 01777, files 0644) instead: still closed to the host by the
// root. A user's --data-dir keeps its owner and modes; DataDirAccess (data_dir_access.hpp) opens
// its out/ to the container for the run and gives the outputs back afterwards.
#pragma once

#include "runner/container_user.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace runner {

// In the private folder: the pid of the runner that made it, while that runner uses it.
inline constexpr const char* kWorkspaceOwnerFile = "owner.pid";
// Folder names are runner-<job id prefix>-XXXXXX in $TMPDIR (or /tmp).
std::filesystem::path workspace_parent();

class JobWorkspace {
 public:
  // `config` is written to config.json; nullopt (only with a data_dir): the user's own
  // config.json there is the configuration and is left alone. `user` is the container's user.
  JobWorkspace(const std::string& job_id, const std::optional<std::filesystem::path>& data_dir,
               bool keep, const std::optional<nlohmann::json>& config, const ContainerUser& user);
  ~JobWorkspace();
  JobWorkspace(const JobWorkspace&) = delete;
  JobWorkspace& operator=(const JobWorkspace&) = delete;

  const std::filesystem::path& data_dir() const { return data_dir_; }
  const std::filesystem::path& tmp_dir() const { return tmp_dir_; }
  const std::filesystem::path& root() const { return root_; }
  // Writes a file into the data folder (`relative` such as "in/state.json") that the container's
  // user can read and nobody else: mode 0600 and chowned to a numeric user, else 0644 (see the
  // header comment for why that is closed to the host in the private folder).
  void write_data_file(const std::string& relative, const std::string& content) const;

 private:
  void make_data_folders() const;
  void give_to_container(const ContainerUser& user);

  std::filesystem::path root_;  // private folder we made (always: it holds tmp/ at least)
  std::filesystem::path data_dir_;
  std::filesystem::path tmp_dir_;
  bool user_data_dir_ = false;
  bool wrote_config_ = false;  // config.json is ours to remove
  ContainerUser user_;
  mutable std::vector<std::filesystem::path> created_;  // write_data_file's, in a --data-dir
  bool keep_ = false;
};

}  // namespace runner
