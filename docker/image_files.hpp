// ImageFiles: small text files read out of an image without running anything in it.
//
// Runner must know, before the job's folders are made, which host uid a named container user
// ("app", from the image's USER or the component's `user`) is: the image's /etc/passwd says.
// A container is created from the image (never started: nothing of the image runs), each file is
// fetched through the archive API (GET /containers/{id}/archive, a tar of one entry), and the
// container is removed when this object goes. A file is returned only when the tar holds exactly
// one regular file within the size bound; a missing file, a link or a folder is nullopt. The
// container carries the caller's labels, so `runner gc` finds it if runner dies meanwhile.
#pragma once

#include "docker/engine_client.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace runner::docker {

class ImageFiles {
 public:
  // `name` is the container's. Throws EngineApiError (404: the engine does not have the image)
  // or EngineError.
  ImageFiles(EngineClient& client, const std::string& image, const std::string& name,
             const std::map<std::string, std::string>& labels);
  ~ImageFiles();
  ImageFiles(const ImageFiles&) = delete;
  ImageFiles& operator=(const ImageFiles&) = delete;

  // The content of the image's file `path` (absolute), or nullopt when there is no such regular
  // file. Throws EngineError when it is larger than `max_bytes` or the tar cannot be read.
  std::optional<std::string> read(const std::string& path, std::uint64_t max_bytes);

 private:
  EngineClient& client_;
  std::string id_;
};

// The content of the one regular file a tar at `tar_path` holds, at most `max_bytes`; nullopt
// when its first entry is not a regular file. Throws EngineError for a damaged tar, a second
// entry, or a file over the bound.
std::optional<std::string> single_file_of_tar(const std::string& tar_path, std::uint64_t max_bytes);

}  // namespace runner::docker
