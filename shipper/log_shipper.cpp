// LogShipper: see log_shipper.hpp.
#include "shipper/log_shipper.hpp"

#include "logging/json_reader.hpp"
#include "store/event_block.hpp"

#include <nlohmann/json.hpp>

#include <thread>

namespace runner::shipper {

namespace {

// Blocks hold up to ~1 MiB of events each; a few per page keep the decoded events in memory to a
// few tens of MB whatever the backlog.
constexpr std::size_t kBlocksPerPage = 4;

bool after_cursor(const store::StoredEvent& e, const std::string& id, const store::EventCursor& c) {
  if (e.time != c.time) return e.time > c.time;
  return id > c.id;
}

}  // namespace

EventMergeReader::EventMergeReader(store::Store& store, store::EventCursor after,
                                   logging::EventTime until,
                                   std::optional<std::string> namespace_name,
                                   logging::Level min_level)
    : store_(store),
      after_(std::move(after)),
      until_(until),
      namespace_name_(std::move(namespace_name)),
      min_level_(min_level) {}

bool EventMergeReader::load_page() {
  if (exhausted_) return false;
  const auto blocks =
      store_.blocks_in_time(after_, until_, namespace_name_, min_level_, page_, kBlocksPerPage);
  if (blocks.size() < kBlocksPerPage) exhausted_ = true;
  for (const auto& block : blocks) {
    page_.after_min_time = block.min_time;
    page_.after_row_id = block.row_id;
    for (auto& e : store::decode_block(block)) {
      if (e.level < min_level_ || e.time >= until_) continue;
      std::string id = e.id();
      if (!after_cursor(e, id, after_)) continue;
      heap_.push(Pending{std::move(e), std::move(id)});
    }
  }
  return !blocks.empty();
}

const store::JobRecord* EventMergeReader::job_info(const std::string& job_id) {
  auto it = jobs_.find(job_id);
  if (it != jobs_.end()) return &it->second;
  if (jobs_.size() > 10000) jobs_.clear();
  auto job = store_.find_job(job_id);
  if (!job) return nullptr;
  return &jobs_.emplace(job_id, std::move(*job)).first->second;
}

std::vector<ShippedEvent> EventMergeReader::next_batch(std::size_t max) {
  std::vector<ShippedEvent> batch;
  while (batch.size() < max) {
    // The smallest pending event can go only if no unloaded block may hold a smaller one:
    // unloaded blocks start at or after the last loaded block's min_time.
    while (!exhausted_ && (heap_.empty() || heap_.top().event.time >= page_.after_min_time)) {
      if (!load_page()) break;
    }
    if (heap_.empty()) break;
    Pending next = heap_.top();
    heap_.pop();
    ShippedEvent shipped;
    if (const store::JobRecord* job = job_info(next.event.job_id)) {
      shipped.namespace_name = job->namespace_name;
      shipped.component_id = job->component_id;
    }
    after_ = store::EventCursor{next.event.time, next.id};
    shipped.event = std::move(next.event);
    batch.push_back(std::move(shipped));
  }
  return batch;
}

std::string encode_offset(const store::EventCursor& cursor) {
  nlohmann::json doc = {{"time", logging::format_time(cursor.time)},
                        {"time_us", cursor.time.time_since_epoch().count()},
                        {"id", cursor.id}};
  return doc.dump();
}

std::optional<store::EventCursor> decode_offset(const std::string& text) {
  auto doc = logging::read_json_or_discarded(text);
  if (!doc.is_object() || !doc.contains("time_us") || !doc["time_us"].is_number_integer())
    return std::nullopt;
  store::EventCursor cursor;
  cursor.time = logging::EventTime(std::chrono::microseconds(doc["time_us"].get<std::int64_t>()));
  if (doc.contains("id") && doc["id"].is_string()) cursor.id = doc["id"].get<std::string>();
  return cursor;
}

ShipStats ship_once(store::Store& store, const ShipperConfig& config,
                    std::vector<std::unique_ptr<LogExporter>>& exporters,
                    const ShipOptions& options) {
  ShipStats stats;
  const auto now = logging::now_utc();
  const std::string key = config.state_key();
  store::EventCursor cursor{now - config.lookback, ""};
  if (auto stored = store.get_value(key)) {
    auto decoded = decode_offset(*stored);
    if (!decoded)
      throw ShipError("the stored offset under key \"" + key +
                      "\" is not one runner wrote: " + *stored);
    cursor = *decoded;
  }
  const auto until = now - config.settle;
  EventMergeReader reader(store, cursor, until, config.namespace_name, config.min_level);
  auto sleep = options.sleep ? options.sleep : [](std::chrono::microseconds d) {
    std::this_thread::sleep_for(d);
    return true;
  };
  for (;;) {
    const std::vector<ShippedEvent> batch = reader.next_batch(config.batch_size);
    if (batch.empty()) break;
    for (auto& exporter : exporters) {
      auto delay = config.retry_delay;
      for (int attempt = 0;; ++attempt) {
        try {
          exporter->send(batch);
          break;
        } catch (const ExportError& e) {
          if (attempt >= config.max_retries)
            throw ShipError("exporter \"" + exporter->id() + "\" (" + exporter->type() +
                            ") failed " + std::to_string(attempt + 1) + " time(s): " + e.what() +
                            "; the offset stays at " + logging::format_time(cursor.time) +
                            " and the next pass resends from there");
          ++stats.retries;
          if (options.on_retry) options.on_retry(exporter->id(), attempt + 1, e.what());
          if (!sleep(delay))
            throw ShipError("stopped while retrying exporter \"" + exporter->id() + "\"");
          delay *= 2;
        }
      }
    }
    // Every exporter has the batch: only now does the offset move.
    cursor = store::EventCursor{batch.back().event.time, batch.back().event.id()};
    store.put_value(key, encode_offset(cursor));
    stats.events += batch.size();
    ++stats.batches;
    stats.offset = cursor;
    if (config.delete_shipped)
      stats.deleted += store.delete_blocks_through(cursor, config.namespace_name);
  }
  for (auto& exporter : exporters) exporter->close();
  // Deleted blocks free pages: give a bounded amount back to the file system per pass (SQLite's
  // incremental vacuum; nothing on PostgreSQL), so a store shipped with delete: true shrinks.
  if (stats.deleted > 0) store.reclaim_space(std::uint64_t{256} << 20);
  return stats;
}

}  // namespace runner::shipper
