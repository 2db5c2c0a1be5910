// EventSpool: blocks written to the on-disk spool come back in order, each once, with every
// field; a full spool refuses a block whole; the file exists only while something waits in it.
// A spool of a job the store has no row for: `runner gc` records the job from the record left
// next to it, stores its events and names the ranges the spool did not hold.
#include "store/event_spool.hpp"
#include "store/store.hpp"
#include "store/store_sink.hpp"

#include <sqlite3.h>
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <string>

using runner::store::EventBlock;
using runner::store::EventSpool;

namespace {

EventBlock block(std::uint64_t first, std::uint64_t last, const std::string& text) {
  EventBlock b;
  b.first_sequence = first;
  b.last_sequence = last;
  b.min_time = runner::logging::EventTime(std::chrono::microseconds(1000 + first));
  b.max_time = runner::logging::EventTime(std::chrono::microseconds(2000 + last));
  b.level_mask = static_cast<std::uint32_t>(first % 7 + 1);
  b.event_count = last - first + 1;  // the compressed-block column (schema v3) comes back too
  b.events = text;
  return b;
}

}  // namespace

TEST_CASE("the spool gives back its blocks in order, once, and removes its file",
          "[store][spool]") {
  const auto dir =
      std::filesystem::temp_directory_path() / ("runner-spool-" + std::to_string(::getpid()));
  const auto file = dir / "job.spool";
  {
    EventSpool spool(file, 1 << 20);
    CHECK(spool.empty());
    CHECK_FALSE(std::filesystem::exists(file));  // nothing on disk until needed
    std::string problem;
    REQUIRE(spool.append(block(1, 3, "[[1,1,\"a\"],[2,1,\"b\"],[3,1,\"c\"]]"), problem));
    REQUIRE(spool.append(block(4, 4, "[[4,2,\"d\"]]"), problem));
    REQUIRE(spool.append(block(5, 9, std::string(1000, 'x')), problem));
    CHECK(std::filesystem::exists(file));
    CHECK((std::filesystem::status(file).permissions() & std::filesystem::perms::others_read) ==
          std::filesystem::perms::none);
    auto first = spool.read(10);  // about 10 bytes: at least one block
    REQUIRE(first.size() == 1);
    CHECK(first[0].first_sequence == 1);
    CHECK(first[0].last_sequence == 3);
    CHECK(first[0].events == "[[1,1,\"a\"],[2,1,\"b\"],[3,1,\"c\"]]");
    CHECK(first[0].min_time.time_since_epoch().count() == 1001);
    CHECK(first[0].max_time.time_since_epoch().count() == 2003);
    CHECK(first[0].level_mask == 2);
    CHECK(first[0].event_count == 3);
    auto rest = spool.read(1 << 20);
    REQUIRE(rest.size() == 2);
    CHECK(rest[0].first_sequence == 4);
    CHECK(rest[1].first_sequence == 5);
    CHECK(rest[1].event_count == 5);
    CHECK(rest[1].events == std::string(1000, 'x'));
    CHECK(spool.empty());
    CHECK(spool.read(1 << 20).empty());
    spool.reset();
    CHECK_FALSE(std::filesystem::exists(file));

    // Written again after a reset: a new file, read from its start.
    REQUIRE(spool.append(block(10, 10, "[[10,3,\"e\"]]"), problem));
    CHECK(spool.read(100).at(0).first_sequence == 10);
  }
  CHECK_FALSE(std::filesystem::exists(file));  // removed with the spool
  std::filesystem::remove_all(dir);
}

TEST_CASE("a full spool refuses a block whole and says why", "[store][spool]") {
  const auto dir =
      std::filesystem::temp_directory_path() / ("runner-spool-full-" + std::to_string(::getpid()));
  EventSpool spool(dir / "job.spool", 2000);
  std::string problem;
  REQUIRE(spool.append(block(1, 1, std::string(1500, 'a')), problem));
  CHECK_FALSE(spool.append(block(2, 2, std::string(1500, 'b')), problem));
  CHECK_THAT(problem, Catch::Contains("is full"));
  const auto back = spool.read(1 << 20);
  REQUIRE(back.size() == 1);
  CHECK(back[0].first_sequence == 1);
  CHECK(spool.empty());
  spool.reset();
  std::filesystem::remove_all(dir);
}

TEST_CASE("a killed runner's spool file is read up to its last whole record", "[store][spool]") {
  const auto dir =
      std::filesystem::temp_directory_path() / ("runner-spool-left-" + std::to_string(::getpid()));
  const auto file = dir / "job.spool";
  const auto left = dir / "left.spool";
  {
    EventSpool spool(file, 1 << 20);
    std::string problem;
    REQUIRE(spool.append(block(1, 2, std::string(100, 'a')), problem));
    REQUIRE(spool.append(block(3, 3, std::string(200, 'b')), problem));
    REQUIRE(spool.append(block(4, 9, std::string(300, 'c')), problem));
    // What a kill -9 leaves: the file as it is, here cut in the middle of the third record.
    std::filesystem::copy_file(file, left);
    std::filesystem::resize_file(left, std::filesystem::file_size(left) - 150);
  }
  {
    EventSpool spool = EventSpool::left_over(left);
    const auto back = spool.read(1 << 20);
    REQUIRE(back.size() == 2);
    CHECK(back[0].first_sequence == 1);
    CHECK(back[0].events == std::string(100, 'a'));
    CHECK(back[1].last_sequence == 3);
    CHECK(spool.read(1 << 20).empty());  // the cut record is never made up
    spool.reset();
  }
  CHECK_FALSE(std::filesystem::exists(left));
  // A header that claims more text than the file holds, and a file that is not there.
  {
    std::FILE* f = std::fopen(left.c_str(), "wb");
    REQUIRE(f != nullptr);
    // first, last, min_time, max_time, level mask + reserved, event count, text length
    const std::uint64_t header[7] = {1, 1, 0, 0, 0, 1, ~std::uint64_t{0} >> 1};
    std::fwrite(header, sizeof header, 1, f);
    std::fwrite("some text", 9, 1, f);
    std::fclose(f);
  }
  CHECK(EventSpool::left_over(left).read(1 << 20).empty());
  CHECK(EventSpool::left_over(dir / "none.spool").read(1 << 20).empty());
  std::filesystem::remove_all(dir);
}

TEST_CASE("a spool of a job the store never recorded: gc records the job, then its events",
          "[store][spool][gc]") {
  namespace fs = std::filesystem;
  const auto dir = fs::temp_directory_path() / ("runner-spool-job-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const auto spool_dir = dir / "spool";
  auto store = runner::store::open_store("sqlite:" + (dir / "runner.db").string());
  runner::store::JobRecord job;
  job.id = "0193aaaa-0000-7000-8000-000000000001";
  job.component_id = "test.unrecorded";
  job.namespace_name = "team.a";
  job.status = "processing";
  job.runner_host = "host-a";
  job.runner_pid = 12345;
  job.created_at = runner::logging::EventTime(std::chrono::microseconds(1'700'000'000'000'000));
  job.started_at = job.created_at;
  const auto spool_file = spool_dir / (job.id + ".spool");
  {
    EventSpool spool(spool_file, 1 << 20);
    std::string problem;
    REQUIRE(spool.append(block(5, 9, "[]"), problem));
    REQUIRE(spool.append(block(12, 20, "[]"), problem));  // 10-11 were refused while it ran
    spool.keep_file();                                    // what a kill -9 leaves
  }
  REQUIRE(runner::store::write_spool_job(spool_file, job, store->describe()));
  // The same job recorded for another store (a `runner run --store` elsewhere): not this one's.
  const auto elsewhere = spool_dir / "0193aaaa-0000-7000-8000-000000000009.spool";
  auto other_job = job;
  other_job.id = "0193aaaa-0000-7000-8000-000000000009";
  REQUIRE(runner::store::write_spool_job(elsewhere, other_job, "postgresql://runner@db/jobs"));
  const auto record = runner::store::spool_job_file(spool_file);
  CHECK(record == spool_dir / (job.id + ".job"));
  CHECK((fs::status(record).permissions() & fs::perms::others_read) == fs::perms::none);
  const auto dead = [](std::int64_t) { return false; };
  const auto alive = [](std::int64_t) { return true; };

  // Its runner still runs, or runs on another host: left alone.
  CHECK(runner::store::record_spooled_jobs(*store, spool_dir, "host-a", alive).empty());
  CHECK(runner::store::record_spooled_jobs(*store, spool_dir, "host-b", dead).empty());
  CHECK_FALSE(store->find_job(job.id));
  CHECK(fs::exists(record));

  // Damaged records, and one copied under another job's name, are reported and kept.
  {
    std::FILE* f = std::fopen((spool_dir / "damaged.job").c_str(), "wb");
    REQUIRE(f != nullptr);
    std::fputs("{\"job_id\": ", f);
    std::fclose(f);
  }
  fs::copy_file(record, spool_dir / "other.job");
  fs::create_symlink(record, spool_dir / "0193aaaa-0000-7000-8000-00000000000a.job");  // skipped
  const auto done = runner::store::record_spooled_jobs(*store, spool_dir, "host-a", dead);
  REQUIRE(done.size() == 4);
  std::map<std::string, std::string> outcome;
  for (const auto& d : done) outcome[d.job_id] = d.outcome;
  CHECK_THAT(outcome[other_job.id],
             Catch::Contains("for another store (postgresql://runner@db/jobs)"));
  CHECK(fs::exists(runner::store::spool_job_file(elsewhere)));
  CHECK_FALSE(store->find_job(other_job.id));
  CHECK_THAT(outcome["damaged"], Catch::Contains("not a job record runner wrote"));
  CHECK_THAT(outcome["other"], Catch::Contains("the record is of another job"));
  CHECK_THAT(outcome[job.id], Catch::Contains("recorded job " + job.id));
  CHECK(fs::exists(spool_dir / "damaged.job"));
  CHECK_FALSE(fs::exists(record));
  const auto row = store->find_job(job.id);
  REQUIRE(row);
  CHECK(row->status == "processing");
  CHECK(row->component_id == "test.unrecorded");
  CHECK(row->namespace_name == "team.a");
  CHECK(row->runner_host == "host-a");
  CHECK(row->runner_pid == 12345);
  CHECK(row->created_at == job.created_at);

  // Its events, with the range the spool did not hold named.
  const auto salvage = runner::store::store_left_over_spool(*store, spool_file, job.id);
  CHECK(salvage.first == 5);
  CHECK(salvage.last == 20);
  REQUIRE(salvage.gaps.size() == 1);
  CHECK(salvage.gaps[0] == std::make_pair(std::uint64_t{10}, std::uint64_t{11}));
  CHECK_FALSE(fs::exists(spool_file));
  CHECK(store->find_job(job.id)->events_stored == 20);
  const auto ended = runner::store::end_jobs_of_dead_runners(*store, "host-a", dead, nullptr);
  REQUIRE(ended.size() == 1);
  CHECK_THAT(ended[0].message, Catch::Contains("The runner died"));
  fs::remove_all(dir);
}

TEST_CASE("a job spooled before the store had its row: the record is there until the row is",
          "[store][spool][sink]") {
  namespace fs = std::filesystem;
  const auto dir = fs::temp_directory_path() / ("runner-spool-sink-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const auto db_file = dir / "runner.db";
  runner::store::open_store("sqlite:" + db_file.string());  // the schema, before the lock
  sqlite3* lock = nullptr;
  REQUIRE(sqlite3_open(db_file.c_str(), &lock) == SQLITE_OK);
  REQUIRE(sqlite3_exec(lock, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr) == SQLITE_OK);
  runner::store::JobRecord job;
  job.id = "0193aaaa-0000-7000-8000-000000000002";
  job.component_id = "test.sink";
  job.status = "processing";
  job.runner_host = "host-a";
  job.runner_pid = ::getpid();
  runner::store::StoreSinkOptions options;
  options.spool_dir = dir / "spool";
  options.max_queued_bytes = 1024;  // full at once: blocks go to the spool after a second
  options.merge_bytes = 512;
  options.disk_reserve_bytes = 0;
  const auto record = dir / "spool" / (job.id + ".job");
  {
    runner::store::StoreSink sink(runner::store::open_store("sqlite:" + db_file.string()), job,
                                  options);
    for (std::uint64_t seq = 1; seq <= 200; ++seq) {
      sink.write(runner::logging::Event{runner::logging::now_utc(), job.id, seq,
                                        runner::logging::Level::info, "stdout",
                                        "line " + std::to_string(seq), nullptr});
      sink.flush();
    }
    CHECK(fs::exists(dir / "spool" / (job.id + ".spool")));
    CHECK(fs::exists(record));  // a kill -9 now would leave both for `runner gc`
    sqlite3_exec(lock, "COMMIT", nullptr, nullptr, nullptr);
    runner::logging::JobSummary summary;
    summary.job_id = job.id;
    summary.status = runner::logging::JobStatus::success;
    sink.settle(summary);
    sink.finish(summary);
    CHECK_FALSE(sink.error());
    CHECK_FALSE(fs::exists(record));  // the row is written: nothing for gc to record
  }
  sqlite3_close(lock);
  auto store = runner::store::open_store("sqlite:" + db_file.string());
  const auto row = store->find_job(job.id);
  REQUIRE(row);
  CHECK(row->status == "success");
  CHECK(row->events_stored == 200);
  CHECK(row->events_missing.empty());
  fs::remove_all(dir);
}
