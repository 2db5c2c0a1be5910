// File handling by copy: see the header.
#include "runner/workspace_copy.hpp"

#include "docker/engine_errors.hpp"
#include "docker/folder_archive.hpp"
#include "runner/errors.hpp"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>

namespace runner {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;

// Removes a temporary tar on every path out.
class TempFile {
 public:
  explicit TempFile(fs::path path) : path_(std::move(path)) {}
  ~TempFile() {
    std::error_code ec;
    fs::remove(path_, ec);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string describe(const docker::ArchiveCounts& c, Clock::time_point started) {
  return fmt::format("{} file(s), {} folder(s), {} byte(s) in {:.2f} s", c.files, c.folders,
                     c.bytes, std::chrono::duration<double>(Clock::now() - started).count());
}

}  // namespace

FileHandling resolve_file_handling(std::optional<FileHandling> operator_choice,
                                   FileHandling component_choice,
                                   const docker::EngineEndpoint& endpoint) {
  FileHandling chosen = component_choice;
  if (operator_choice && *operator_choice != FileHandling::automatic) chosen = *operator_choice;
  if (chosen != FileHandling::automatic) return chosen;
  return endpoint.is_local() ? FileHandling::mount : FileHandling::copy;
}

void copy_workspace_in(docker::EngineClient& client, const std::string& container_id,
                       const JobWorkspace& workspace, logging::EventLog& events) {
  const auto started = Clock::now();
  const TempFile tar(workspace.root() / "copy-in.tar");
  docker::ArchiveCounts counts;
  try {
    counts = docker::write_folder_tar(workspace.data_dir(), "data", tar.path());
  } catch (const std::runtime_error& e) {
    throw InternalError(std::string("cannot pack the working folder: ") + e.what());
  }
  try {
    client.put_archive(container_id, "/", tar.path().string());
  } catch (const docker::EngineApiError& e) {
    throw UserError("the engine refused the copy of the working folder into the container: " +
                    e.daemon_message());
  }
  events.emit(
      logging::Level::info, "runner",
      "Copied the working folder into the container as /data: " + describe(counts, started));
  if (counts.skipped > 0)
    events.emit(logging::Level::warning, "runner",
                fmt::format("{} device, FIFO or socket entr(ies) of the working folder were not "
                            "copied",
                            counts.skipped));
}

std::optional<std::string> copy_outputs_out(docker::EngineClient& client,
                                            const std::string& container_id,
                                            const JobWorkspace& workspace,
                                            logging::EventLog& events) {
  const auto started = Clock::now();
  const TempFile tar(workspace.root() / "copy-out.tar");
  std::error_code ec;
  const auto space = fs::space(workspace.root(), ec);
  const std::uint64_t limit = ec ? std::uint64_t{1} << 40 : space.available / 2;
  std::string problem;
  try {
    if (!client.get_archive(container_id, "/data/out", tar.path().string(), limit)) {
      problem = "the container has no /data/out";
    } else {
      const auto counts =
          docker::extract_folder_tar(tar.path(), "out", workspace.data_dir() / "out");
      events.emit(logging::Level::info, "runner",
                  "Copied /data/out back from the container: " + describe(counts, started));
      if (counts.skipped > 0)
        events.emit(logging::Level::warning, "runner",
                    fmt::format("{} device, FIFO or socket entr(ies) of /data/out were not copied",
                                counts.skipped));
      return std::nullopt;
    }
  } catch (const docker::EngineUnreachableError&) {
    throw;
  } catch (const std::exception& e) {
    problem = e.what();
  }
  const std::string message = "The outputs could not be copied back from the container: " + problem;
  events.emit(logging::Level::error, "runner", message);
  return message;
}

ContainerFiles workspace_copy_hooks(const JobWorkspace& workspace, logging::EventLog& events) {
  return {[&workspace, &events](docker::EngineClient& client, const std::string& id) {
            copy_workspace_in(client, id, workspace, events);
          },
          [&workspace, &events](docker::EngineClient& client, const std::string& id) {
            return copy_outputs_out(client, id, workspace, events);
          }};
}

}  // namespace runner
