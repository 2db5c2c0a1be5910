// The `file` exporter: JSON Lines files in a folder, one object per event, rolled every
// `maxLinesPerFile` lines. Properties: `path` (folder, required, created when missing),
// `filePrefix` (default "logs"; Kestra's `logFilePrefix` too), `maxLinesPerFile` (default
// 100000), `format` (Kestra's; only JSON is accepted). Files are named
// `<filePrefix>-<UTC yyyymmddThhmmss>-<n>.jsonl` (the time the file was opened, n counting the
// files this exporter opened, skipping names that exist). A line:
//   {"id":"<event id>","time":"2025-11-21T11:54:14.123456Z","level":"info","source":"stdout",
//    "message":"...","fields":{...},"job_id":"...","sequence":7,"namespace":"...",
//    "component_id":"..."}
// ("fields" only when the event has fields). send() builds a batch's lines in one buffer, writes
// them with one write() per file and calls fdatasync before returning; a failed write is cut
// off again (ftruncate) so a retry never leaves half a line. close() ends the file: every pass
// of the shipper starts a new one.
#pragma once

#include "shipper/exporter_common.hpp"

#include <memory>

namespace runner::shipper {

std::unique_ptr<LogExporter> make_file_exporter(ExporterProperties& properties);

}  // namespace runner::shipper
