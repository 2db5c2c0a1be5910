// `runner ship --config shipper.yaml [--every DURATION]`: the log shipper (see
// shipper/log_shipper.hpp). One pass by default; with --every it repeats like a scheduled flow,
// sleeping between passes on a signalfd so SIGINT/SIGTERM end it at once and cleanly (between
// batches, never after sending a batch but before storing its offset).
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace runner {

struct ShipArgs {
  std::string config;
  std::string store;
  std::string every;      // ISO-8601 or seconds; empty: one pass
  bool schedule = false;  // repeat on the flow file's Schedule trigger (its cron)
  std::string key_file;
};

CLI::App* add_ship_command(CLI::App& app, ShipArgs& args);
// 0 when every pass succeeded; 75 (kExitExportFailed) when the (last) pass failed.
int command_ship(const ShipArgs& args);

}  // namespace runner
