// EventSpool: see event_spool.hpp. Plain write/pread on one descriptor; the StoreSink calls it
// under its mutex, from the job thread (append) and the writer thread (read), never both at once.
#include "store/event_spool.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace runner::store {

namespace {

struct RecordHeader {
  std::uint64_t first_sequence;
  std::uint64_t last_sequence;
  std::int64_t min_time;
  std::int64_t max_time;
  std::uint32_t level_mask;
  std::uint32_t reserved;
  std::uint64_t event_count;
  std::uint64_t length;
};

bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

bool read_all(int fd, char* data, std::size_t size, std::uint64_t offset) {
  while (size > 0) {
    const ssize_t n = ::pread(fd, data, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
    offset += static_cast<std::uint64_t>(n);
  }
  return true;
}

}  // namespace

EventSpool::EventSpool(std::filesystem::path file, std::uint64_t max_bytes)
    : file_(std::move(file)), max_bytes_(max_bytes) {}

EventSpool::~EventSpool() {
  reset();
}

EventSpool::EventSpool(EventSpool&& other) noexcept
    : file_(std::move(other.file_)),
      max_bytes_(other.max_bytes_),
      fd_(other.fd_),
      read_offset_(other.read_offset_),
      write_offset_(other.write_offset_) {
  other.fd_ = -1;
  other.read_offset_ = other.write_offset_ = 0;
}

EventSpool EventSpool::left_over(std::filesystem::path file) {
  EventSpool spool(std::move(file), 0);
  spool.fd_ = ::open(spool.file_.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  struct stat info {};
  if (spool.fd_ >= 0 && ::fstat(spool.fd_, &info) == 0 && S_ISREG(info.st_mode))
    spool.write_offset_ = static_cast<std::uint64_t>(info.st_size);
  return spool;
}

std::uint64_t store_left_over_spool(Store& store, const std::filesystem::path& file,
                                    const std::string& job_id) {
  EventSpool spool = EventSpool::left_over(file);
  std::uint64_t last = 0;
  try {
    for (auto blocks = spool.read(256 << 10); !blocks.empty(); blocks = spool.read(256 << 10)) {
      for (auto& b : blocks) b.job_id = job_id;
      store.append_blocks(blocks);
      last = std::max(last, blocks.back().last_sequence);
    }
  } catch (...) {
    spool.keep_file();
    throw;
  }
  spool.reset();  // removes the file, a damaged tail with it
  std::error_code ignored;
  std::filesystem::remove(file, ignored);  // not opened (not a regular file): gone all the same
  return last;
}

bool EventSpool::open_file(std::string& problem) {
  if (fd_ >= 0) return true;
  std::error_code ec;
  std::filesystem::create_directories(file_.parent_path(), ec);
  ::chmod(file_.parent_path().c_str(), 0700);
  fd_ = ::open(file_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    problem =
        fmt::format("cannot create the spool file {}: {}", file_.string(), std::strerror(errno));
    return false;
  }
  read_offset_ = write_offset_ = 0;
  return true;
}

bool EventSpool::append(const EventBlock& block, std::string& problem) {
  if (!open_file(problem)) return false;
  const std::uint64_t size = sizeof(RecordHeader) + block.events.size();
  if (pending_bytes() + size > max_bytes_) {
    problem = max_bytes_ >= (1u << 20)
                  ? fmt::format("the spool {} is full ({} MiB, RUNNER_SPOOL_MAX_BYTES)",
                                file_.string(), max_bytes_ >> 20)
                  : fmt::format("the spool {} is full ({} bytes, RUNNER_SPOOL_MAX_BYTES)",
                                file_.string(), max_bytes_);
    return false;
  }
  RecordHeader h{block.first_sequence,
                 block.last_sequence,
                 block.min_time.time_since_epoch().count(),
                 block.max_time.time_since_epoch().count(),
                 block.level_mask,
                 0,
                 block.event_count,
                 block.events.size()};
  if (::lseek(fd_, static_cast<off_t>(write_offset_), SEEK_SET) < 0 ||
      !write_all(fd_, reinterpret_cast<const char*>(&h), sizeof h) ||
      !write_all(fd_, block.events.data(), block.events.size())) {
    problem =
        fmt::format("writing the spool file {} failed: {}", file_.string(), std::strerror(errno));
    // Cut off a partial record so that what was kept stays readable.
    if (::ftruncate(fd_, static_cast<off_t>(write_offset_)) != 0) {
      // Nothing more to do: the offsets below still end at the last whole record.
    }
    return false;
  }
  write_offset_ += size;
  return true;
}

std::vector<EventBlock> EventSpool::read(std::size_t max_bytes) {
  std::vector<EventBlock> blocks;
  std::size_t bytes = 0;
  while (!empty() && (blocks.empty() || bytes < max_bytes)) {
    RecordHeader h{};
    if (pending_bytes() < sizeof h) break;
    if (!read_all(fd_, reinterpret_cast<char*>(&h), sizeof h, read_offset_)) break;
    // A left-over file may end in a record cut short: never trust a length past the end.
    if (h.length > pending_bytes() - sizeof h || h.first_sequence > h.last_sequence) break;
    EventBlock b;
    b.first_sequence = h.first_sequence;
    b.last_sequence = h.last_sequence;
    b.min_time = EventTime(std::chrono::microseconds(h.min_time));
    b.max_time = EventTime(std::chrono::microseconds(h.max_time));
    b.level_mask = h.level_mask;
    b.event_count = h.event_count;
    b.events.resize(h.length);
    if (!read_all(fd_, b.events.data(), b.events.size(), read_offset_ + sizeof h)) break;
    read_offset_ += sizeof h + h.length;
    bytes += b.events.size();
    blocks.push_back(std::move(b));
  }
  return blocks;
}

void EventSpool::keep_file() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  read_offset_ = write_offset_ = 0;
}

void EventSpool::reset() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
    ::unlink(file_.c_str());
  }
  read_offset_ = write_offset_ = 0;
}

}  // namespace runner::store
