// The log shipper's pass logic on a real SQLite store: (time, id) order across interleaved blocks
// of several jobs, offsets across passes, level/namespace/lookback filters, retries, a receiver
// that fails midway then recovers (nothing lost, only the failed batch duplicated), equal
// timestamps, and delete. The exporter here records what it is sent: the real exporters have
// their own tests against real or format-checking receivers.
#include "shipper/log_shipper.hpp"

#include "store/event_block.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <random>
#include <set>

using runner::logging::EventTime;
using runner::logging::Level;
using namespace runner;

namespace {

class RecordingExporter final : public shipper::LogExporter {
 public:
  explicit RecordingExporter(std::string id) : id_(std::move(id)) {}
  const std::string& id() const override { return id_; }
  const std::string& type() const override { return type_; }
  void send(const std::vector<shipper::ShippedEvent>& batch) override {
    ++calls;
    if (fail_from_call && calls >= *fail_from_call &&
        (!fail_until_call || calls < *fail_until_call))
      throw shipper::ExportError("receiver answered 503");
    batches.push_back(batch);
  }
  std::vector<std::string> ids() const {
    std::vector<std::string> out;
    for (const auto& b : batches)
      for (const auto& e : b) out.push_back(e.event.id());
    return out;
  }
  int calls = 0;
  std::optional<int> fail_from_call;
  std::optional<int> fail_until_call;
  std::vector<std::vector<shipper::ShippedEvent>> batches;

 private:
  std::string id_;
  std::string type_ = "recording";
};

struct ShipperFixture {
  std::filesystem::path dir;
  std::unique_ptr<store::Store> db;
  EventTime base = logging::now_utc() - std::chrono::hours(1);

  ShipperFixture() {
    std::random_device rd;
    dir = std::filesystem::temp_directory_path() / ("runner-shipper-test-" + std::to_string(rd()));
    std::filesystem::create_directories(dir);
    db = store::open_store("sqlite:" + (dir / "runner.db").string());
  }
  ~ShipperFixture() {
    db.reset();
    std::filesystem::remove_all(dir);
  }
  void job(const std::string& id, const std::string& ns) {
    store::JobRecord j;
    j.id = id;
    j.component_id = "comp." + id;
    j.namespace_name = ns;
    j.status = "success";
    j.created_at = base;
    db->insert_job(j);
  }
  // Events seq first..last of `job_id`, event i at base + time_of(i) microseconds.
  void block(const std::string& job_id, std::uint64_t first, std::uint64_t last,
             const std::function<std::int64_t(std::uint64_t)>& time_of, Level level = Level::info) {
    store::EventBlockBuilder builder(job_id);
    for (auto s = first; s <= last; ++s)
      builder.add(s, base + std::chrono::microseconds(time_of(s)), level, "stdout",
                  job_id + " line " + std::to_string(s), "");
    db->append_blocks({builder.take()});
  }
  shipper::ShipperConfig config(std::size_t batch = 10) {
    shipper::ShipperConfig c;
    c.batch_size = batch;
    c.settle = std::chrono::microseconds(0);
    c.retry_delay = std::chrono::microseconds(1000);
    c.min_level = Level::debug;
    return c;
  }
};

std::vector<std::unique_ptr<shipper::LogExporter>> wrap(RecordingExporter*& out,
                                                        const std::string& id = "rec") {
  std::vector<std::unique_ptr<shipper::LogExporter>> v;
  auto e = std::make_unique<RecordingExporter>(id);
  out = e.get();
  v.push_back(std::move(e));
  return v;
}

bool in_time_id_order(const std::vector<shipper::ShippedEvent>& events) {
  for (std::size_t i = 1; i < events.size(); ++i) {
    const auto& a = events[i - 1].event;
    const auto& b = events[i].event;
    if (a.time > b.time || (a.time == b.time && a.id() >= b.id())) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("the shipper sends interleaved jobs in time and id order, in batches", "[shipper]") {
  ShipperFixture f;
  f.job("job-a", "default");
  f.job("job-b", "default");
  f.job("job-c", "team.x");
  // Three jobs writing at once: blocks overlap in time.
  f.block("job-a", 1, 40, [](auto s) { return static_cast<std::int64_t>(s) * 30; });
  f.block("job-b", 1, 50, [](auto s) { return static_cast<std::int64_t>(s) * 20 + 5; });
  f.block("job-a", 41, 80, [](auto s) { return static_cast<std::int64_t>(s) * 30; });
  f.block("job-c", 1, 30, [](auto s) { return 600 + static_cast<std::int64_t>(s % 3); });

  RecordingExporter* rec = nullptr;
  auto exporters = wrap(rec);
  const auto stats = shipper::ship_once(*f.db, f.config(7), exporters);
  CHECK(stats.events == 160);
  CHECK(stats.batches == (160 + 6) / 7);
  std::vector<shipper::ShippedEvent> all;
  for (const auto& b : rec->batches) {
    CHECK(b.size() <= 7);
    all.insert(all.end(), b.begin(), b.end());
  }
  REQUIRE(all.size() == 160);
  CHECK(in_time_id_order(all));
  std::set<std::string> unique;
  for (const auto& e : all) unique.insert(e.event.id());
  CHECK(unique.size() == 160);
  for (const auto& e : all) {
    if (e.event.job_id == "job-c") {
      CHECK(e.namespace_name == "team.x");
      CHECK(e.component_id == "comp.job-c");
    }
  }
}

TEST_CASE("a second pass ships nothing new and a third only what came since", "[shipper]") {
  ShipperFixture f;
  f.job("job-a", "default");
  f.block("job-a", 1, 25, [](auto s) { return static_cast<std::int64_t>(s); });
  RecordingExporter* rec = nullptr;
  auto exporters = wrap(rec);
  CHECK(shipper::ship_once(*f.db, f.config(), exporters).events == 25);
  const auto second = shipper::ship_once(*f.db, f.config(), exporters);
  CHECK(second.events == 0);
  CHECK(rec->ids().size() == 25);
  f.block("job-a", 26, 30, [](auto s) { return static_cast<std::int64_t>(s); });
  CHECK(shipper::ship_once(*f.db, f.config(), exporters).events == 5);
  const auto ids = rec->ids();
  REQUIRE(ids.size() == 30);
  CHECK(ids.back() == "job-a-000000000030");
  const auto offset = shipper::decode_offset(*f.db->get_value("LogShipper-state"));
  REQUIRE(offset);
  CHECK(offset->id == "job-a-000000000030");
}

TEST_CASE("events with equal timestamps are all shipped across batch boundaries", "[shipper]") {
  ShipperFixture f;
  f.job("job-a", "default");
  f.job("job-b", "default");
  f.block("job-a", 1, 15, [](auto) { return std::int64_t{100}; });
  f.block("job-b", 1, 15, [](auto) { return std::int64_t{100}; });
  RecordingExporter* rec = nullptr;
  auto exporters = wrap(rec);
  CHECK(shipper::ship_once(*f.db, f.config(4), exporters).events == 30);
  const auto ids = rec->ids();
  CHECK(std::set<std::string>(ids.begin(), ids.end()).size() == 30);
  f.block("job-b", 16, 16, [](auto) { return std::int64_t{100}; });  // same time, later id
  CHECK(shipper::ship_once(*f.db, f.config(4), exporters).events == 1);
}

TEST_CASE("the level and namespace filters and the lookback apply", "[shipper]") {
  ShipperFixture f;
  f.job("job-a", "company");
  f.job("job-b", "company.team");
  f.job("job-c", "companyx");
  f.block(
      "job-a", 1, 5, [](auto s) { return static_cast<std::int64_t>(s); }, Level::debug);
  f.block(
      "job-a", 6, 8, [](auto s) { return static_cast<std::int64_t>(s); }, Level::warning);
  f.block(
      "job-b", 1, 4, [](auto s) { return static_cast<std::int64_t>(s); }, Level::error);
  f.block(
      "job-c", 1, 4, [](auto s) { return static_cast<std::int64_t>(s); }, Level::error);
  // Older than a 30-minute lookback (the fixture's events are 1 hour old):
  auto config = f.config();
  config.min_level = Level::warning;
  config.namespace_name = "company";
  RecordingExporter* rec = nullptr;
  auto exporters = wrap(rec);
  CHECK(shipper::ship_once(*f.db, config, exporters).events == 7);  // a's 3 warnings + b's 4 errors
  for (const auto& e : rec->batches.at(0)) {
    CHECK(e.event.level >= Level::warning);
    CHECK(e.event.job_id != "job-c");
  }
  ShipperFixture g;
  g.job("job-a", "default");
  g.block("job-a", 1, 5, [](auto s) { return static_cast<std::int64_t>(s); });
  auto recent = g.config();
  recent.lookback = std::chrono::minutes(30);
  RecordingExporter* rec2 = nullptr;
  auto exporters2 = wrap(rec2);
  CHECK(shipper::ship_once(*g.db, recent, exporters2).events == 0);
}

TEST_CASE("a receiver failing midway then recovering loses nothing", "[shipper]") {
  ShipperFixture f;
  f.job("job-a", "default");
  f.block("job-a", 1, 50, [](auto s) { return static_cast<std::int64_t>(s) * 10; });
  std::vector<std::unique_ptr<shipper::LogExporter>> exporters;
  auto good = std::make_unique<RecordingExporter>("good");
  auto flaky = std::make_unique<RecordingExporter>("flaky");
  RecordingExporter* good_ptr = good.get();
  RecordingExporter* flaky_ptr = flaky.get();
  flaky->fail_from_call = 3;  // batches 1 and 2 go through, batch 3 keeps failing
  exporters.push_back(std::move(good));
  exporters.push_back(std::move(flaky));
  auto config = f.config(10);
  config.max_retries = 2;
  CHECK_THROWS_WITH(shipper::ship_once(*f.db, config, exporters),
                    Catch::Contains("exporter \"flaky\"") && Catch::Contains("503") &&
                        Catch::Contains("3 time(s)"));
  CHECK(flaky_ptr->ids().size() == 20);
  CHECK(good_ptr->ids().size() == 30);  // it took batch 3 before flaky failed on it
  REQUIRE(shipper::decode_offset(*f.db->get_value("LogShipper-state"))->id == "job-a-000000000020");

  flaky_ptr->fail_from_call.reset();  // the receiver recovers
  const auto stats = shipper::ship_once(*f.db, config, exporters);
  CHECK(stats.events == 30);
  const auto flaky_ids = flaky_ptr->ids();
  CHECK(flaky_ids.size() == 50);
  CHECK(std::set<std::string>(flaky_ids.begin(), flaky_ids.end()).size() == 50);  // no gap, no dup
  const auto good_ids = good_ptr->ids();
  CHECK(good_ids.size() == 60);  // batch 3 twice: the only duplicates
  CHECK(std::set<std::string>(good_ids.begin(), good_ids.end()).size() == 50);
}

TEST_CASE("a transient failure is retried with backoff and counted", "[shipper]") {
  ShipperFixture f;
  f.job("job-a", "default");
  f.block("job-a", 1, 5, [](auto s) { return static_cast<std::int64_t>(s); });
  RecordingExporter* rec = nullptr;
  auto exporters = wrap(rec);
  rec->fail_from_call = 1;
  rec->fail_until_call = 3;  // calls 1 and 2 fail, 3 succeeds
  std::vector<std::chrono::microseconds> sleeps;
  shipper::ShipOptions options;
  options.sleep = [&](std::chrono::microseconds d) {
    sleeps.push_back(d);
    return true;
  };
  auto config = f.config();
  config.retry_delay = std::chrono::milliseconds(100);
  const auto stats = shipper::ship_once(*f.db, config, exporters, options);
  CHECK(stats.events == 5);
  CHECK(stats.retries == 2);
  REQUIRE(sleeps.size() == 2);
  CHECK(sleeps[0] == std::chrono::milliseconds(100));
  CHECK(sleeps[1] == std::chrono::milliseconds(200));
}

TEST_CASE("delete removes shipped events from the store", "[shipper]") {
  ShipperFixture f;
  f.job("job-a", "default");
  f.block("job-a", 1, 10, [](auto s) { return static_cast<std::int64_t>(s); });
  f.block("job-a", 11, 20, [](auto s) { return static_cast<std::int64_t>(s); });
  auto config = f.config(100);
  config.delete_shipped = true;
  RecordingExporter* rec = nullptr;
  auto exporters = wrap(rec);
  const auto stats = shipper::ship_once(*f.db, config, exporters);
  CHECK(stats.events == 20);
  CHECK(stats.deleted == 20);
  CHECK(f.db->job_blocks("job-a", 0, 100).empty());
}
