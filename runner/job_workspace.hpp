// JobWorkspace: the folders a job's container sees at /data and /tmp.
//
// By default a private folder (mode 0700) under $TMPDIR is made per job with Keboola's layout,
// data/in/{tables,files,user}, data/out/{tables,files}, data/config.json (0600) and tmp/, and
// removed after the run unless kept. With --data-dir the user's folder is the data folder (the
// local development loop); only the generated config.json and the scratch tmp/ are removed then.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>

namespace runner {

// In the private folder: the pid of the runner that made it, while that runner uses it.
inline constexpr const char* kWorkspaceOwnerFile = "owner.pid";
// Folder names are runner-<job id prefix>-XXXXXX in $TMPDIR (or /tmp).
std::filesystem::path workspace_parent();

class JobWorkspace {
 public:
  // `user` is the container's user ("uid[:gid]" numeric gets the folders chowned to it).
  JobWorkspace(const std::string& job_id, const std::optional<std::filesystem::path>& data_dir,
               bool keep, const nlohmann::json& config, const std::string& user);
  ~JobWorkspace();
  JobWorkspace(const JobWorkspace&) = delete;
  JobWorkspace& operator=(const JobWorkspace&) = delete;

  const std::filesystem::path& data_dir() const { return data_dir_; }
  const std::filesystem::path& tmp_dir() const { return tmp_dir_; }
  const std::filesystem::path& root() const { return root_; }

 private:
  std::filesystem::path root_;  // private folder we made (always: it holds tmp/ at least)
  std::filesystem::path data_dir_;
  std::filesystem::path tmp_dir_;
  bool user_data_dir_ = false;
  bool keep_ = false;
};

}  // namespace runner
