// A user's --data-dir around a job (Keboola's local development loop): the folder is theirs, so
// runner uses what they left there and gives back what the container wrote.
//
// - config.json: a file the user wrote is the configuration when component.json gives no
//   `parameters` (choose_config; both at once is a config error, exit 65: runner would have to
//   replace their file). Its '#' values are secrets like component.json's. Runner never removes
//   a file it did not create.
// - Stale outputs: files an earlier run left in DIR/out would mix with this run's; they are
//   reported (existing_outputs) or, on request (--clean-out), removed first (clear_outputs).
// - Access: the container's user may not be the folder's owner. DataDirAccess opens DIR/out,
//   out/tables and out/files to it for the run (chowned to a numeric uid, else mode 0777) and,
//   after the run, puts back their owners and modes and gives every file below out/ to the user
//   who ran runner (SUDO_UID, else the folder's owner: container_user.hpp), so they can edit
//   them. DIR itself and DIR/in keep their modes: reading them is checked, and a folder the
//   container's user cannot read is reported before the run.
#pragma once

#include "runner/component.hpp"
#include "runner/container_user.hpp"

#include <nlohmann/json.hpp>

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace runner {

// What /data/config.json is for a job.
struct JobConfig {  // NOLINT(bugprone-exception-escape): implicit members, nlohmann json
  std::optional<nlohmann::json> generated;  // runner writes this; nullopt: the user's file
  std::filesystem::path users_file;         // set when the user's file is used
  nlohmann::json users_config;              // its document (a chain's stages are given it)
  std::vector<std::string> secrets;         // '#' values of the user's file
};

// `generated` is what runner would write (keboola_config). Throws ConfigError when the user's
// file is there and the component gives `parameters` too, or when the file is not valid JSON.
JobConfig choose_config(const ComponentSpec& spec, const nlohmann::json& generated,
                        const std::optional<std::filesystem::path>& data_dir);

struct OutputsFound {
  std::size_t files = 0;  // regular files and links below out/
  std::string example;    // one of them, relative to the data folder ("out/tables/a.csv")
};
OutputsFound existing_outputs(const std::filesystem::path& data_dir);
// Removes everything below DIR/out (out/ itself stays). Returns how many entries went.
std::size_t clear_outputs(const std::filesystem::path& data_dir);

// Gives everything below DIR/out (and out/ itself) to the host user (host_owner_of). Returns the
// problems, for warning events: only a runner running as root can give files away.
std::vector<std::string> give_outputs_back(const std::filesystem::path& data_dir);

class DataDirAccess {
 public:
  DataDirAccess(std::filesystem::path data_dir, const ContainerUser& user);
  ~DataDirAccess();
  DataDirAccess(const DataDirAccess&) = delete;
  DataDirAccess& operator=(const DataDirAccess&) = delete;

  // Problems found while opening the folder (each one sentence), for warning events.
  const std::vector<std::string>& warnings() const { return warnings_; }
  // Puts the out/ folders back and gives the outputs to the host user. Returns the problems (for
  // warning events); safe to call twice (the destructor calls it too).
  std::vector<std::string> give_back();

 private:
  struct Saved {
    std::filesystem::path path;
    uid_t uid;
    gid_t gid;
    mode_t mode;
  };
  std::filesystem::path data_dir_;
  std::vector<Saved> saved_;
  std::vector<std::string> warnings_;
  bool given_back_ = false;
};

}  // namespace runner
