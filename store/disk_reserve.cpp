// DiskReserve (disk_reserve.hpp): posix_fallocate, so the blocks are really taken from the
// filesystem (tmpfs and ext4 both honour it) without writing them.
#include "store/disk_reserve.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <system_error>

namespace runner::store {

std::filesystem::path reserve_file(const std::filesystem::path& store_file,
                                   const std::string& job_id) {
  return store_file.string() + "-reserve-" + job_id;
}

DiskReserve::DiskReserve(std::filesystem::path file, std::size_t bytes) : file_(std::move(file)) {
  const int fd = ::open(file_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return;
  held_ = ::posix_fallocate(fd, 0, static_cast<off_t>(bytes)) == 0;
  ::close(fd);
  if (!held_) {
    std::error_code ignored;
    std::filesystem::remove(file_, ignored);
  }
}

DiskReserve::~DiskReserve() {
  release();
}

bool DiskReserve::release() {
  if (!held_) return false;
  held_ = false;
  std::error_code ignored;
  std::filesystem::remove(file_, ignored);
  return true;
}

}  // namespace runner::store
