// EventSpool: see event_spool.hpp. Plain write/pread on one descriptor; the StoreSink calls it
// under its mutex, from the job thread (append) and the writer thread (read), never both at once.
#include "store/event_spool.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>

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

SpoolSalvage store_left_over_spool(Store& store, const std::filesystem::path& file,
                                   const std::string& job_id) {
  EventSpool spool = EventSpool::left_over(file);
  SpoolSalvage salvage;
  try {
    for (auto blocks = spool.read(256 << 10); !blocks.empty(); blocks = spool.read(256 << 10)) {
      for (auto& b : blocks) {
        b.job_id = job_id;
        if (salvage.first == 0) salvage.first = b.first_sequence;
        if (salvage.last != 0 && b.first_sequence > salvage.last + 1)
          salvage.gaps.emplace_back(salvage.last + 1, b.first_sequence - 1);
        salvage.last = std::max(salvage.last, b.last_sequence);
      }
      store.append_blocks(blocks);
    }
  } catch (...) {
    spool.keep_file();
    throw;
  }
  spool.reset();  // removes the file, a damaged tail with it
  std::error_code ignored;
  std::filesystem::remove(file, ignored);  // not opened (not a regular file): gone all the same
  return salvage;
}

std::filesystem::path spool_file(const std::filesystem::path& spool_dir,
                                 const std::string& job_id) {
  return spool_dir / (job_id + ".spool");
}

std::filesystem::path spool_job_file(const std::filesystem::path& spool_file) {
  std::filesystem::path file = spool_file;
  return file.replace_extension(".job");
}

namespace {

constexpr std::uintmax_t kMaxJobRecordBytes = 64 << 10;

std::int64_t micros(EventTime t) {
  return t.time_since_epoch().count();
}

EventTime from_micros(std::int64_t us) {
  return EventTime(std::chrono::microseconds(us));
}

// The record of `file` (and in `store`, the store it was for), or why it is not one.
std::optional<JobRecord> read_spool_job(const std::filesystem::path& file, std::string& store,
                                        std::string& problem) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec || size > kMaxJobRecordBytes) {
    problem = ec ? ec.message() : "larger than 64 KiB";
    return std::nullopt;
  }
  // Read to the bound, not to the end: the file may have grown since its size was taken.
  std::string text(static_cast<std::size_t>(size), '\0');
  std::ifstream in(file, std::ios::binary);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  const auto doc = nlohmann::json::parse(text, nullptr, false);
  const auto string_at = [&](const char* key) -> std::optional<std::string> {
    if (!doc.is_object() || !doc.contains(key) || !doc[key].is_string()) return std::nullopt;
    return doc[key].get<std::string>();
  };
  const auto integer_at = [&](const char* key) -> std::optional<std::int64_t> {
    if (!doc.is_object() || !doc.contains(key) || !doc[key].is_number_integer())
      return std::nullopt;
    return doc[key].get<std::int64_t>();
  };
  const auto id = string_at("job_id");
  const auto component = string_at("component_id");
  const auto ns = string_at("namespace");
  const auto host = string_at("runner_host");
  const auto pid = integer_at("runner_pid");
  const auto created = integer_at("created_at_us");
  const auto for_store = string_at("store");
  if (!id || !component || !ns || !host || !pid || !created || !for_store) {
    problem = "not a job record runner wrote";
    return std::nullopt;
  }
  if (*id + ".job" != file.filename().string()) {
    problem = "the record is of another job (" + *id + ")";
    return std::nullopt;
  }
  store = *for_store;
  JobRecord job;
  job.id = *id;
  job.component_id = *component;
  job.namespace_name = *ns;
  job.status = std::string(kStatusProcessing);
  job.runner_host = *host;
  job.runner_pid = *pid;
  job.created_at = from_micros(*created);
  if (const auto started = integer_at("started_at_us")) job.started_at = from_micros(*started);
  return job;
}

}  // namespace

bool write_spool_job(const std::filesystem::path& spool_file, const JobRecord& job,
                     const std::string& store) {
  nlohmann::json doc = {{"job_id", job.id},
                        {"store", store},
                        {"component_id", job.component_id},
                        {"namespace", job.namespace_name},
                        {"runner_host", job.runner_host},
                        {"runner_pid", job.runner_pid.value_or(0)},
                        {"created_at_us", micros(job.created_at)}};
  if (job.started_at) doc["started_at_us"] = micros(*job.started_at);
  const std::string text = doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const auto file = spool_job_file(spool_file);
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return false;
  const bool written = write_all(fd, text.data(), text.size());
  ::close(fd);
  if (!written) ::unlink(file.c_str());
  return written;
}

std::vector<SpooledJob> record_spooled_jobs(Store& store, const std::filesystem::path& spool_dir,
                                            std::string_view host,
                                            const std::function<bool(std::int64_t)>& alive) {
  std::vector<SpooledJob> done;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(spool_dir, ec)) {
    const auto& file = entry.path();
    // Not through a symbolic link: gc may run as root, and the file is read.
    if (file.extension() != ".job" || !entry.is_regular_file(ec) || entry.is_symlink(ec)) continue;
    SpooledJob result{file, file.stem().string(), ""};
    std::string problem;
    std::string for_store;
    const auto job = read_spool_job(file, for_store, problem);
    if (!job) {
      result.outcome = "cannot read the job record " + file.string() + ": " + problem;
      done.push_back(std::move(result));
      continue;
    }
    if (job->runner_host != host || (job->runner_pid && alive(*job->runner_pid))) continue;
    if (for_store != store.describe()) {
      result.outcome = "the job record " + file.string() + " is of a job for another store (" +
                       for_store + "): run `runner gc` with RUNNER_STORE set to it";
      done.push_back(std::move(result));
      continue;
    }
    if (store.find_job(job->id)) {
      result.outcome = "removed the job record of job " + job->id + " (the store has its row)";
    } else {
      store.insert_job(*job);
      result.outcome = "recorded job " + job->id + " (" + job->component_id +
                       "): its runner died before the store recorded it";
    }
    std::filesystem::remove(file, ec);
    done.push_back(std::move(result));
  }
  return done;
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
