// Folder <-> tar: see the header. libarchive writes and reads the tar (pax, as the engine reads
// and writes it) and does the guarded extraction (archive_write_disk with its SECURE_* options).
#include "docker/folder_archive.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <system_error>

namespace runner::docker {
namespace fs = std::filesystem;
namespace {

struct ReadDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct WriteDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using ArchiveReader = std::unique_ptr<archive, ReadDeleter>;
using ArchiveWriter = std::unique_ptr<archive, WriteDeleter>;
using Entry = std::unique_ptr<archive_entry, EntryDeleter>;

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

[[noreturn]] void fail(const std::string& what, archive* a) {
  const char* detail = a != nullptr ? archive_error_string(a) : nullptr;
  throw std::runtime_error(what + (detail != nullptr ? std::string(": ") + detail : ""));
}

void add_entry(archive* out, const fs::path& path, const std::string& name, ArchiveCounts& counts) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0)
    throw std::runtime_error("cannot read " + path.string() + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode)) {
    ++counts.skipped;  // a device, FIFO or socket: a bind mount would show it, a copy cannot
    return;
  }
  const Entry entry(archive_entry_new());
  archive_entry_copy_stat(entry.get(), &st);
  archive_entry_set_pathname(entry.get(), name.c_str());
  std::optional<FileDescriptor> file;
  if (S_ISLNK(st.st_mode)) {
    std::error_code ec;
    const fs::path target = fs::read_symlink(path, ec);
    if (ec) throw std::runtime_error("cannot read the link " + path.string() + ": " + ec.message());
    archive_entry_set_symlink(entry.get(), target.c_str());
    archive_entry_set_size(entry.get(), 0);
    ++counts.links;
  } else if (S_ISDIR(st.st_mode)) {
    archive_entry_set_size(entry.get(), 0);
    ++counts.folders;
  } else {
    file.emplace(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (file->get() < 0)
      throw std::runtime_error("cannot read " + path.string() + ": " + std::strerror(errno));
    archive_entry_set_nlink(entry.get(), 1);  // every path is stored whole (no hard links)
    ++counts.files;
  }
  if (archive_write_header(out, entry.get()) != ARCHIVE_OK)
    fail("cannot add " + path.string() + " to the archive", out);
  if (!file) return;
  std::array<char, 64 * 1024> buffer{};
  std::int64_t left = st.st_size;  // what the header announced: no more, no less
  while (left > 0) {
    const ssize_t n = ::read(file->get(), buffer.data(),
                             static_cast<std::size_t>(std::min<std::int64_t>(left, buffer.size())));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      throw std::runtime_error("cannot read " + path.string() + ": " + std::strerror(errno));
    if (n == 0)
      throw std::runtime_error(path.string() + " became shorter while it was being copied");
    if (archive_write_data(out, buffer.data(), static_cast<std::size_t>(n)) != n)
      fail("cannot write the archive", out);
    left -= n;
    counts.bytes += static_cast<std::uint64_t>(n);
  }
}

// "top" or "top/..." without "." or ".." components and without a leading slash: the part after
// "top" ("" or "/..."); nullopt for anything else.
std::optional<std::string> below_top(std::string_view name, const std::string& top) {
  while (name.size() > 2 && name.substr(0, 2) == "./") name.remove_prefix(2);
  while (!name.empty() && name.back() == '/') name.remove_suffix(1);
  if (name.substr(0, top.size()) != top) return std::nullopt;
  std::string_view rest = name.substr(top.size());
  if (!rest.empty() && rest.front() != '/') return std::nullopt;
  for (std::size_t start = 1; start <= rest.size();) {
    const std::size_t end = std::min(rest.find('/', start), rest.size());
    const std::string_view part = rest.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return std::nullopt;
    start = end + 1;
  }
  return std::string(rest);
}

}  // namespace

ArchiveCounts write_folder_tar(const fs::path& folder, const std::string& top_name,
                               const fs::path& tar_path) {
  ArchiveCounts counts;
  const ArchiveWriter out(archive_write_new());
  if (!out || archive_write_set_format_pax_restricted(out.get()) != ARCHIVE_OK ||
      archive_write_open_filename(out.get(), tar_path.c_str()) != ARCHIVE_OK)
    fail("cannot write " + tar_path.string(), out.get());
  add_entry(out.get(), folder, top_name, counts);
  std::error_code ec;
  // The iterator does not follow symlinks to folders: each link is stored as a link.
  for (fs::recursive_directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec))
    add_entry(out.get(), it->path(),
              top_name + "/" + it->path().lexically_relative(folder).string(), counts);
  if (ec) throw std::runtime_error("cannot read " + folder.string() + ": " + ec.message());
  if (archive_write_close(out.get()) != ARCHIVE_OK)
    fail("cannot write " + tar_path.string(), out.get());
  return counts;
}

ArchiveCounts extract_folder_tar(const fs::path& tar_path, const std::string& top_name,
                                 const fs::path& destination) {
  ArchiveCounts counts;
  std::error_code ec;
  fs::create_directories(destination, ec);
  // SECURE_SYMLINKS looks at every component of the path written, so the destination is named
  // without symlinks of its own ($TMPDIR may be one).
  const fs::path root = fs::canonical(destination, ec);
  if (ec) throw std::runtime_error("cannot use " + destination.string() + ": " + ec.message());

  const ArchiveReader in(archive_read_new());
  const ArchiveWriter disk(archive_write_disk_new());
  if (!in || !disk) throw std::runtime_error("cannot initialise libarchive");
  archive_read_support_format_tar(in.get());
  int flags = ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
              ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_UNLINK;
  if (::geteuid() == 0) flags |= ARCHIVE_EXTRACT_OWNER;  // numeric ids: no name lookup is set
  archive_write_disk_set_options(disk.get(), flags);
  if (archive_read_open_filename(in.get(), tar_path.c_str(), 64 * 1024) != ARCHIVE_OK)
    fail("cannot read " + tar_path.string(), in.get());

  archive_entry* entry = nullptr;
  for (;;) {
    const int rc = archive_read_next_header(in.get(), &entry);
    if (rc == ARCHIVE_EOF) break;
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
      fail("the container's archive is damaged", in.get());
    const char* raw_name = archive_entry_pathname(entry);
    const std::string name = raw_name != nullptr ? raw_name : "";
    const auto rest = below_top(name, top_name);
    if (!rest)
      throw std::runtime_error("the container's archive holds \"" + name.substr(0, 200) +
                               "\", which is not inside " + top_name + "/");
    const char* hardlink = archive_entry_hardlink(entry);
    const auto type = archive_entry_filetype(entry);
    if (hardlink != nullptr) {
      const auto target = below_top(hardlink, top_name);
      if (!target)
        throw std::runtime_error("the container's archive links \"" + name.substr(0, 200) +
                                 "\" to a file outside " + top_name + "/");
      archive_entry_set_hardlink(entry, (root.string() + *target).c_str());
      ++counts.files;
    } else if (type == AE_IFREG) {
      ++counts.files;
      counts.bytes +=
          static_cast<std::uint64_t>(std::max<la_int64_t>(0, archive_entry_size(entry)));
    } else if (type == AE_IFDIR) {
      ++counts.folders;
    } else if (type == AE_IFLNK) {
      ++counts.links;
    } else {
      ++counts.skipped;  // devices, FIFOs, sockets are not recreated on this machine
      continue;
    }
    archive_entry_set_pathname(entry, (root.string() + *rest).c_str());
    // No setuid or setgid file comes back from a container; the sticky bit may stay.
    archive_entry_set_perm(entry, archive_entry_perm(entry) & 01777);
    if (archive_write_header(disk.get(), entry) != ARCHIVE_OK)
      fail("cannot extract " + name.substr(0, 200), disk.get());
    if (type == AE_IFREG && hardlink == nullptr) {
      const void* block = nullptr;
      size_t size = 0;
      la_int64_t offset = 0;
      for (;;) {
        const int r = archive_read_data_block(in.get(), &block, &size, &offset);
        if (r == ARCHIVE_EOF) break;
        if (r != ARCHIVE_OK) fail("the container's archive is damaged", in.get());
        if (archive_write_data_block(disk.get(), block, size, offset) != ARCHIVE_OK)
          fail("cannot extract " + name.substr(0, 200), disk.get());
      }
    }
    if (archive_write_finish_entry(disk.get()) != ARCHIVE_OK)
      fail("cannot extract " + name.substr(0, 200), disk.get());
  }
  if (archive_write_close(disk.get()) != ARCHIVE_OK)
    fail("cannot finish extracting into " + destination.string(), disk.get());
  return counts;
}

}  // namespace runner::docker
