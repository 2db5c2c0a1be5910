// Folder <-> tar for the engine's archive API (PUT/GET /containers/{id}/archive), on libarchive.
//
// File handling by copy (docs/engines.md) moves a job's working folder into its container before
// the start and the container's out/ folder back after the exit. The tar going in is made from
// the runner's own folder and keeps each entry's owner and mode, so the container sees exactly
// what a bind mount would show it. The tar coming back is untrusted (the component made its
// contents), so extraction is strict: only entries under the expected top folder; no absolute
// paths, no "..", nothing written through a symlink (libarchive's SECURE_* checks: a symlink on
// the way is replaced by a folder, an existing file is replaced, never written through); only
// folders, regular files, symlinks and hard links inside the tree; setuid and setgid bits
// dropped, device, FIFO and socket entries not recreated (counted); owners kept only when runner
// runs as root, as with a bind mount. Both sides stream through a
// file: nothing is held in memory whole.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace runner::docker {

struct ArchiveCounts {
  std::uint64_t files = 0;    // regular files (and hard links)
  std::uint64_t folders = 0;  // including the top folder
  std::uint64_t links = 0;    // symbolic links
  std::uint64_t bytes = 0;    // regular files' content
  std::uint64_t skipped = 0;  // entries not recreated (devices, FIFOs, sockets)
};

// Writes `folder` as a tar to `tar_path`, its entries named `top_name`/..., symlinks stored as
// links (never followed). Throws std::runtime_error naming the file on failure.
ArchiveCounts write_folder_tar(const std::filesystem::path& folder, const std::string& top_name,
                               const std::filesystem::path& tar_path);

// Extracts the tar at `tar_path` whose entries are `top_name` and `top_name`/... into
// `destination` (which stands for `top_name` and is created when missing). Throws
// std::runtime_error for an entry outside `top_name`, an unsafe path, or a write failure.
ArchiveCounts extract_folder_tar(const std::filesystem::path& tar_path, const std::string& top_name,
                                 const std::filesystem::path& destination);

}  // namespace runner::docker
