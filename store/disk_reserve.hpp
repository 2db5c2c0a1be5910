// DiskReserve: a few hundred KiB set aside on a store's disk while a job runs, given back when
// that disk fills up, so that the job's final record (and the note of which events were lost)
// still fits: SQLite needs new WAL pages to record anything, and on a full disk it has none
// (issue 14: RUNNER_HOME on a 2 MB tmpfs left the job `processing`, its loss unrecorded).
// A file `<store file>-reserve-<job id>` (reserve_file()), allocated with posix_fallocate (no
// data written); removed by release() or the destructor, and by `runner gc` when it ends the
// job of a runner killed before either ran. Creating it may fail (the disk is full already, a
// read-only folder): then there is no reserve, and nothing else changes.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

namespace runner::store {

// The reserve file of job `job_id` beside the store file `store_file`.
std::filesystem::path reserve_file(const std::filesystem::path& store_file,
                                   const std::string& job_id);

class DiskReserve {
 public:
  DiskReserve(std::filesystem::path file, std::size_t bytes);
  ~DiskReserve();
  DiskReserve(const DiskReserve&) = delete;
  DiskReserve& operator=(const DiskReserve&) = delete;

  bool held() const { return held_; }
  // Gives the space back (removes the file); true when there was a reserve to give.
  bool release();

 private:
  std::filesystem::path file_;
  bool held_ = false;
};

}  // namespace runner::store
