// `runner ship`: see ship_command.hpp.
#include "runner/ship_command.hpp"

#include "logging/kestra_protocol.hpp"
#include "runner/errors.hpp"
#include "runner/stop_request.hpp"
#include "secrets/config_cipher.hpp"
#include "shipper/cron_schedule.hpp"
#include "shipper/log_shipper.hpp"
#include "store/store.hpp"

#include <poll.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <optional>

namespace runner {

namespace {

std::chrono::microseconds parse_every(const std::string& text) {
  double seconds = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (result.ec != std::errc() || result.ptr != text.data() + text.size()) {
    auto iso = logging::parse_iso8601_duration(text);
    if (!iso)
      throw UsageError("--every: expected an ISO-8601 duration (PT5M) or seconds, got \"" + text +
                       "\"");
    seconds = *iso;
  }
  if (seconds < 0.1)
    throw UsageError("--every: expected at least 0.1 seconds, got \"" + text + "\"");
  return std::chrono::microseconds(static_cast<std::int64_t>(seconds * 1e6));
}

// Waits `d` or until a stop signal; true when the time passed. The signal is taken (a signal
// left pending would be delivered when the mask is restored on the way out, and kill the process
// with 143 after a clean stop), and `stopped` keeps every later wait from waiting.
bool sleep_unless_stopped(StopSource& stop, bool& stopped, std::chrono::microseconds d) {
  if (stopped) return false;
  // In waits of at most an hour: a cron's next time may be months away (poll takes an int).
  const auto deadline = std::chrono::steady_clock::now() + d;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return true;
    pollfd pfd{stop.fd(), POLLIN, 0};
    const auto ms = std::min<std::int64_t>(left.count(), 3600 * 1000);
    if (::poll(&pfd, 1, static_cast<int>(ms)) != 0) break;
  }
  stopped = true;
  while (stop.take()) {
  }
  return false;
}

}  // namespace

CLI::App* add_ship_command(CLI::App& app, ShipArgs& args) {
  CLI::App* cmd = app.add_subcommand(
      "ship", "Ship stored events in batches through exporters (Kestra's Log Shipper)");
  cmd->add_option("--config", args.config, "shipper.yaml or shipper.json")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--store", args.store,
                  "Store to read: sqlite:PATH or postgresql://... (default $RUNNER_STORE, else "
                  "sqlite:$RUNNER_HOME/runner.db)");
  cmd->add_option("--every", args.every,
                  "Repeat a pass every DURATION (ISO-8601 such as PT1M, or seconds) until "
                  "SIGINT/SIGTERM");
  cmd->add_flag("--schedule", args.schedule,
                "Repeat a pass at each time of the Schedule trigger's cron in a Kestra flow file "
                "(local time) until SIGINT/SIGTERM");
  cmd->add_option("--key-file", args.key_file,
                  "Key for RUNNER::ENC:: credentials (else RUNNER_ENCRYPTION_KEY, else "
                  "$RUNNER_HOME/secret.key)");
  return cmd;
}

int command_ship(const ShipArgs& args) {
  shipper::ShipperConfig config;
  try {
    config = shipper::load_shipper_config(args.config);
  } catch (const shipper::ShipperConfigError& e) {
    for (const auto& line : e.problems())
      std::fprintf(stderr, "%s: %s\n", args.config.c_str(), line.c_str());
    return kExitInvalidComponent;
  }
  if (args.schedule && !args.every.empty())
    throw UsageError("--schedule and --every: give one of them");
  std::optional<shipper::CronSchedule> schedule;
  if (args.schedule) {
    if (!config.schedule_cron)
      throw UsageError("--schedule: " + args.config +
                       " has no Schedule trigger with a cron (a Kestra flow's triggers); use "
                       "--every DURATION");
    std::string problem;
    schedule = shipper::CronSchedule::parse(*config.schedule_cron, problem);
  }
  const bool repeat = !args.every.empty() || schedule.has_value();
  const std::chrono::microseconds every =
      args.every.empty() ? std::chrono::microseconds(0) : parse_every(args.every);
  // The wait before the next pass: --every, or until the cron's next time.
  auto wait_for_next = [&]() -> std::optional<std::chrono::microseconds> {
    if (!schedule) return every;
    const auto now = std::chrono::system_clock::now();
    const auto next = schedule->next(now);
    if (!next) return std::nullopt;
    return std::chrono::duration_cast<std::chrono::microseconds>(*next - now);
  };

  const shipper::KeyLookup key = [&]() -> std::optional<secrets::EncryptionKey> {
    return secrets::find_key(
        args.key_file.empty() ? std::nullopt : std::optional<std::filesystem::path>(args.key_file));
  };
  std::vector<std::unique_ptr<shipper::LogExporter>> exporters;
  try {
    for (std::size_t i = 0; i < config.exporters.size(); ++i)
      exporters.push_back(shipper::make_exporter(config.exporters[i],
                                                 "logExporters[" + std::to_string(i) + "]", key));
  } catch (const shipper::ExporterConfigError& e) {
    std::fprintf(stderr, "%s: %s\n", args.config.c_str(), e.what());
    return kExitInvalidComponent;
  } catch (const secrets::SecretError& e) {
    std::fprintf(stderr, "%s: %s\n", args.config.c_str(), e.what());
    return kExitInvalidComponent;
  }

  const std::string url = args.store.empty() ? store::default_store_url() : args.store;
  if (url == "none") throw UsageError("--store none: runner ship needs a store");
  std::unique_ptr<store::Store> db;
  try {
    db = store::open_store(url);
  } catch (const std::exception& e) {
    throw StoreUnavailableError(e.what());
  }

  SignalStopSource stop;
  bool stopped = false;
  shipper::ShipOptions options;
  options.on_retry = [](const std::string& id, int attempt, const std::string& error) {
    std::fprintf(stderr, "runner ship: exporter \"%s\" failed (attempt %d), retrying: %s\n",
                 id.c_str(), attempt, error.c_str());
  };
  options.sleep = [&](std::chrono::microseconds d) {
    return sleep_unless_stopped(stop, stopped, d);
  };

  int status = 0;
  for (;;) {
    try {
      const auto stats = shipper::ship_once(*db, config, exporters, options);
      std::printf("shipped %llu event(s) in %llu batch(es) to %zu exporter(s)",
                  static_cast<unsigned long long>(stats.events),
                  static_cast<unsigned long long>(stats.batches), exporters.size());
      if (stats.offset)
        std::printf("; offset %s %s", logging::format_time(stats.offset->time).c_str(),
                    stats.offset->id.c_str());
      if (stats.retries)
        std::printf("; %llu retr%s", static_cast<unsigned long long>(stats.retries),
                    stats.retries == 1 ? "y" : "ies");
      if (config.delete_shipped)
        std::printf("; %llu event(s) deleted", static_cast<unsigned long long>(stats.deleted));
      std::printf("\n");
      std::fflush(stdout);
      status = 0;
    } catch (const shipper::ShipError& e) {
      std::fprintf(stderr, "runner ship: %s\n", e.what());
      status = kExitExportFailed;
    } catch (const store::StoreError& e) {
      std::fprintf(stderr, "runner ship: %s\n", e.what());
      status = kExitStoreUnavailable;
    }
    if (!repeat) break;
    const auto wait = wait_for_next();
    if (!wait) {
      std::fprintf(stderr, "runner ship: the schedule's cron has no time in the next 366 days\n");
      break;
    }
    if (!sleep_unless_stopped(stop, stopped, *wait)) break;
  }
  // A signal during the last pass stops nothing more: the pass is done, its status stands.
  while (stop.take()) {
  }
  return status;
}

}  // namespace runner
