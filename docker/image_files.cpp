// ImageFiles: see the header. libarchive reads the engine's tar (as folder_archive.cpp does).
#include "docker/image_files.hpp"

#include "docker/engine_errors.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>

namespace runner::docker {
namespace {

struct ReadDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchiveReader = std::unique_ptr<archive, ReadDeleter>;

// A temporary file for one tar, removed with this object.
class TempTar {
 public:
  TempTar() {
    const char* tmp = std::getenv("TMPDIR");
    path_ = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/runner-image-XXXXXX";
    const int fd = ::mkstemp(path_.data());
    if (fd < 0) throw EngineError("cannot create a temporary file in " + path_);
    ::close(fd);
  }
  ~TempTar() { ::unlink(path_.c_str()); }
  TempTar(const TempTar&) = delete;
  TempTar& operator=(const TempTar&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

std::optional<std::string> single_file_of_tar(const std::string& tar_path,
                                              std::uint64_t max_bytes) {
  const ArchiveReader in(archive_read_new());
  if (!in) throw EngineError("cannot read a tar: out of memory");
  archive_read_support_format_tar(in.get());
  if (archive_read_open_filename(in.get(), tar_path.c_str(), 16 * 1024) != ARCHIVE_OK)
    throw EngineError(std::string("cannot read the engine's tar: ") +
                      archive_error_string(in.get()));
  archive_entry* entry = nullptr;
  if (archive_read_next_header(in.get(), &entry) != ARCHIVE_OK)
    throw EngineError(std::string("the engine's tar has no entry: ") +
                      archive_error_string(in.get()));
  if (archive_entry_filetype(entry) != AE_IFREG) return std::nullopt;
  if (archive_entry_size_is_set(entry) != 0 && archive_entry_size(entry) >= 0 &&
      static_cast<std::uint64_t>(archive_entry_size(entry)) > max_bytes)
    throw EngineError("the image's file is larger than " + std::to_string(max_bytes) + " bytes");
  std::string content;
  char buffer[16 * 1024];
  for (;;) {
    const la_ssize_t n = archive_read_data(in.get(), buffer, sizeof buffer);
    if (n < 0)
      throw EngineError(std::string("cannot read the engine's tar: ") +
                        archive_error_string(in.get()));
    if (n == 0) break;
    if (content.size() + static_cast<std::size_t>(n) > max_bytes)
      throw EngineError("the image's file is larger than " + std::to_string(max_bytes) + " bytes");
    content.append(buffer, static_cast<std::size_t>(n));
  }
  if (archive_read_next_header(in.get(), &entry) != ARCHIVE_EOF)
    throw EngineError("the engine's tar of one file holds more than one entry");
  return content;
}

ImageFiles::ImageFiles(EngineClient& client, const std::string& image, const std::string& name,
                       const std::map<std::string, std::string>& labels)
    : client_(client) {
  ContainerConfig config;
  config.image = image;
  config.cmd = std::vector<std::string>{"/nonexistent"};  // never started
  config.entrypoint = std::vector<std::string>{};
  config.labels = labels;
  config.network_mode = "none";
  id_ = client_.create_container(config, name);
}

ImageFiles::~ImageFiles() {
  try {
    client_.remove_container(id_);
  } catch (...) {  // NOLINT(bugprone-empty-catch): `runner gc` finds it by its labels
  }
}

std::optional<std::string> ImageFiles::read(const std::string& path, std::uint64_t max_bytes) {
  const TempTar tar;
  // The tar's own headers and padding come on top of the file.
  if (!client_.get_archive(id_, path, tar.path(), max_bytes + 64 * 1024)) return std::nullopt;
  return single_file_of_tar(tar.path(), max_bytes);
}

}  // namespace runner::docker
