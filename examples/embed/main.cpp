// embed: a worker that runs one component through runner's C++ API.
//
//   embed COMPONENT_JSON [STOP_AFTER_SECONDS]
//
// Prints every event as it arrives, asks the job to stop from a watchdog thread when it runs
// longer than STOP_AFTER_SECONDS (0 or none: no limit), prints the result as JSON and exits with
// the job's exit code (the CLI's: 0 success, 1 user error, 2 application error, 143 stopped).
#include <runner/runner.hpp>

#include <chrono>
#include <cstdio>
#include <future>
#include <string>
#include <thread>

namespace rl = runner::logging;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: embed COMPONENT_JSON [STOP_AFTER_SECONDS]\n");
    return 64;
  }
  const double stop_after = argc > 2 ? std::stod(argv[2]) : 0;

  // 1. Parse and validate the component; encrypted values need RUNNER_ENCRYPTION_KEY or a key file.
  runner::ComponentSpec spec;
  try {
    spec = runner::load_component_file(argv[1],
                                       [] { return runner::secrets::find_key(std::nullopt); });
  } catch (const runner::ConfigError& e) {
    for (const auto& problem : e.problems()) std::fprintf(stderr, "%s\n", problem.c_str());
    return e.exit_code();
  }

  // 2. Receive the events: called on this thread, inside run(), in order. Each is an owning copy.
  rl::CallbackSink sink({
      .on_event =
          [](rl::OwnedEvent e) {
            std::printf("event %llu %s %s: %s\n", static_cast<unsigned long long>(e.sequence),
                        std::string(rl::level_name(e.level)).c_str(), e.source.c_str(),
                        e.message.c_str());
          },
      .on_flush = [] { std::fflush(stdout); },
  });
  rl::EventLog events(runner::new_job_id());  // one per job; the sink must outlive it
  events.add_sink(sink);

  // 3. A watchdog thread asks the job to stop unless it finishes in time.
  runner::EventStopSource stop;
  std::promise<void> finished;
  std::thread watchdog([&stop, stop_after, done = finished.get_future()] {
    if (stop_after > 0 &&
        done.wait_for(std::chrono::duration<double>(stop_after)) == std::future_status::timeout)
      stop.request_stop();
  });

  // 4. Run: blocks until the container is gone; failures come back in the summary, not thrown.
  runner::RunOptions options;
  options.stop = &stop;
  const rl::JobSummary result = runner::JobRunner(std::move(spec), options, events).run();
  finished.set_value();
  watchdog.join();

  std::printf("result %s\n", rl::summary_to_json(result).dump().c_str());
  return result.exit_code;
}
