// runner.hpp: everything a program that embeds runner needs to run a job, in one include.
//
// Link runner::runner (find_package(runner), see examples/embed). A job is run like this:
//
//   runner::ComponentSpec spec = runner::load_component_file(
//       "component.json", [] { return runner::secrets::find_key(std::nullopt); });
//       // throws runner::ConfigError (problems(): one line per problem)
//   runner::logging::CallbackSink sink({.on_event = [](runner::logging::OwnedEvent e) { ... }});
//   runner::logging::EventLog events(runner::new_job_id());  // one EventLog per job
//   events.add_sink(sink);                                   // sinks outlive the run
//   runner::EventStopSource stop;                            // stop.request_stop() from any thread
//   runner::RunOptions options;
//   options.stop = &stop;
//   runner::logging::JobSummary result = runner::JobRunner(spec, options, events).run();
//   // result.status: success | error | terminated; result.exit_code: as the CLI's (README.md)
//
// run() blocks the calling thread until the container is gone, never throws for a failed job,
// and calls the sinks on that thread. Run several jobs at once from several threads, each with
// its own EventLog, sinks and stop source.
#pragma once

#include "logging/callback_sink.hpp"  // CallbackSink, OwnedEvent, OwnedRecord
#include "logging/event.hpp"          // Event, Record, JobSummary, Level
#include "logging/event_log.hpp"      // EventLog
#include "logging/event_sink.hpp"     // EventSink, to write a sink of one's own
#include "logging/jsonl_sink.hpp"     // JsonLinesSink, summary_to_json
#include "runner/component.hpp"       // ComponentSpec, load_component_file, prepare_component
#include "runner/errors.hpp"          // ConfigError and the exit codes
#include "runner/job_id.hpp"          // new_job_id
#include "runner/job_runner.hpp"      // JobRunner, RunOptions, runner_version
#include "runner/stop_request.hpp"    // EventStopSource, StopSource
#include "secrets/config_cipher.hpp"  // find_key, for encrypted values in component files
