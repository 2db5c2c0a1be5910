// CallbackSink: events, records and the summary reach the user's functions as owning copies,
// through a real EventLog (stamping, sequence numbers, masking), without Docker.
#include "logging/callback_sink.hpp"
#include "logging/event_log.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

using runner::logging::CallbackSink;
using runner::logging::EventLog;
using runner::logging::JobSummary;
using runner::logging::Level;
using runner::logging::OwnedEvent;
using runner::logging::OwnedRecord;
using runner::secrets::MaskedText;

TEST_CASE("CallbackSink hands every event over as a copy that outlives the call",
          "[logging][callback]") {
  std::vector<OwnedEvent> got;
  CallbackSink sink({.on_event = [&](OwnedEvent e) { got.push_back(std::move(e)); }});
  EventLog log("job-1");
  log.add_sink(sink);
  {
    std::string text = "first line";
    const nlohmann::json fields = {{"rows", 5}};
    log.emit(Level::info, "stdout", text, nullptr);
    log.emit(Level::warning, "gelf", "with fields", &fields);
    text.assign(text.size(), 'x');  // the views the sink got pointed here
  }
  REQUIRE(got.size() == 2);
  CHECK(got[0].job_id == "job-1");
  CHECK(got[0].sequence == 1);
  CHECK(got[0].level == Level::info);
  CHECK(got[0].source == "stdout");
  CHECK(got[0].message == "first line");
  CHECK(got[0].fields.is_null());
  CHECK(got[1].sequence == 2);
  CHECK(got[1].level == Level::warning);
  CHECK(got[1].fields == nlohmann::json({{"rows", 5}}));
  CHECK(got[0].time <= got[1].time);
  CHECK(got[0].time.time_since_epoch().count() > 0);
}

TEST_CASE("CallbackSink copies are already masked by the event log", "[logging][callback]") {
  std::vector<OwnedEvent> got;
  CallbackSink sink({.on_event = [&](OwnedEvent e) { got.push_back(std::move(e)); }});
  EventLog log("job-2");
  log.add_sink(sink);
  log.set_masker(runner::secrets::Masker(std::vector<std::string>{"s3cret", "424242"}));
  const nlohmann::json fields = {{"password", "s3cret"}, {"pin", 424242}, {"s3cret-key", true}};
  log.emit(Level::error, "runner", "login with s3cret failed", &fields);
  REQUIRE(got.size() == 1);
  CHECK(got[0].message == "login with [hidden] failed");
  // Fields are masked value by value: the structure survives, a number becomes "[hidden]".
  CHECK(got[0].fields ==
        nlohmann::json({{"password", "[hidden]"}, {"pin", "[hidden]"}, {"[hidden]-key", true}}));
}

TEST_CASE("CallbackSink passes records and parses their members", "[logging][callback]") {
  std::vector<OwnedRecord> records;
  std::vector<OwnedEvent> events;
  CallbackSink sink({.on_event = [&](OwnedEvent e) { events.push_back(std::move(e)); },
                     .on_record = [&](OwnedRecord r) { records.push_back(std::move(r)); }});
  EventLog log("job-3");
  log.add_sink(sink);
  log.emit(Level::info, "stdout", "a line");
  log.record("metric", MaskedText::assume_masked(R"("name":"rows","type":"counter","value":15)"));
  log.record("output", MaskedText::assume_masked(R"("name":"file","value":{"path":"/data/out"})"));
  REQUIRE(records.size() == 2);
  CHECK(records[0].kind == "metric");
  CHECK(records[0].sequence == 2);  // records share the events' sequence
  CHECK(records[0].job_id == "job-3");
  CHECK(records[0].to_json() ==
        nlohmann::json({{"name", "rows"}, {"type", "counter"}, {"value", 15}}));
  CHECK(records[1].to_json()["value"]["path"] == "/data/out");
  CHECK(records[1].view().members == records[1].members);

  OwnedRecord broken;
  broken.members = R"("name":)";
  CHECK(broken.to_json() == nlohmann::json::object());
}

TEST_CASE("CallbackSink reports the summary once and each flush", "[logging][callback]") {
  int flushes = 0;
  std::vector<JobSummary> summaries;
  std::vector<std::string> order;
  CallbackSink sink({.on_event = [&](OwnedEvent) { order.push_back("event"); },
                     .on_finish =
                         [&](const JobSummary& s) {
                           summaries.push_back(s);
                           order.push_back("finish");
                         },
                     .on_flush =
                         [&] {
                           ++flushes;
                           order.push_back("flush");
                         }});
  EventLog log("job-4");
  log.add_sink(sink);
  log.emit(Level::info, "stdout", "one");
  log.flush();
  JobSummary summary;
  summary.status = runner::logging::JobStatus::terminated;
  summary.exit_code = 143;
  summary.message = "Terminated by cancelled";
  log.finish(summary);
  REQUIRE(summaries.size() == 1);
  CHECK(summaries[0].job_id == "job-4");  // stamped by the event log
  CHECK(summaries[0].status == runner::logging::JobStatus::terminated);
  CHECK(summaries[0].exit_code == 143);
  CHECK(flushes == 2);
  CHECK(order == std::vector<std::string>{"event", "flush", "finish", "flush"});
}

TEST_CASE("CallbackSink skips callbacks that are not set", "[logging][callback]") {
  // A sink with nothing set, and one with only on_finish: neither throws, the set callback is
  // called, and the other sinks of the log still get everything.
  CallbackSink empty({});
  int finishes = 0;
  CallbackSink finish_only({.on_finish = [&](const JobSummary&) { ++finishes; }});
  std::vector<std::string> seen;
  CallbackSink events_only(
      {.on_event = [&](runner::logging::OwnedEvent e) { seen.push_back(e.message); }});
  EventLog log("job-5");
  log.add_sink(empty);
  log.add_sink(finish_only);
  log.add_sink(events_only);
  CHECK_NOTHROW(log.emit(Level::info, "stdout", "nobody listens"));
  CHECK_NOTHROW(log.record("output", MaskedText::assume_masked(R"("name":"a","value":1)")));
  CHECK_NOTHROW(log.flush());
  CHECK_NOTHROW(log.finish(JobSummary{}));
  CHECK(finishes == 1);
  CHECK(seen == std::vector<std::string>{"nobody listens"});
}

TEST_CASE("OwnedEvent view points into the copy", "[logging][callback]") {
  runner::logging::Event original;
  original.job_id = "job-6";
  original.sequence = 7;
  original.level = Level::error;
  original.source = "stderr";
  original.message = "boom";
  const nlohmann::json fields = {{"k", "v"}};
  original.fields = &fields;
  const OwnedEvent copy = OwnedEvent::copy_of(original);
  const runner::logging::Event view = copy.view();
  CHECK(view.message == "boom");
  CHECK(view.message.data() == copy.message.data());
  CHECK(view.sequence == 7);
  CHECK(view.level == Level::error);
  REQUIRE(view.fields != nullptr);
  CHECK(view.fields == &copy.fields);
  CHECK(*view.fields == fields);
  CHECK(OwnedEvent::copy_of(runner::logging::Event{}).view().fields == nullptr);
}
