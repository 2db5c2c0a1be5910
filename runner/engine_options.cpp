// Engine options: see the header.
#include "runner/engine_options.hpp"

#include "docker/host_address.hpp"
#include "runner/errors.hpp"
#include "runner/job_runner.hpp"

#include <CLI/CLI.hpp>

namespace runner {

void add_engine_options(CLI::App& command, EngineArgs& args) {
  command
      .add_option("--file-handling", args.file_handling,
                  "How /data reaches the container: mount (bind mounts: an engine on this "
                  "machine), copy (through the engine's archive API: any engine) or auto "
                  "(mount for unix://, copy for tcp://); default the component's file_handling")
      ->check(CLI::IsMember({"auto", "mount", "copy"}));
  command.add_option("--gelf-bind", args.gelf_bind,
                     "GELF logging: the address of this machine the job's GELF server listens on "
                     "(default the engine's bridge gateway; required for a tcp:// engine)");
  command.add_option("--gelf-advertise", args.gelf_advertise,
                     "GELF logging: the host name or address the container sends to "
                     "(KBC_LOGGER_ADDR; default the --gelf-bind address)");
}

void apply_engine_options(const EngineArgs& args, RunOptions& run) {
  if (!args.file_handling.empty()) run.file_handling = parse_file_handling(args.file_handling);
  if (!args.gelf_bind.empty()) {
    if (!docker::is_local_address(args.gelf_bind))
      throw UsageError("--gelf-bind " + args.gelf_bind +
                       ": expected an IP address of this machine (see `ip -brief address`)");
    run.gelf_bind = args.gelf_bind;
  }
  if (!args.gelf_advertise.empty()) {
    const bool plain = args.gelf_advertise.find_first_of(" \t\r\n=") == std::string::npos &&
                       args.gelf_advertise.size() <= 253;
    if (!plain)
      throw UsageError("--gelf-advertise: expected a host name or an IP address, got \"" +
                       args.gelf_advertise.substr(0, 80) + "\"");
    if (args.gelf_bind.empty())
      throw UsageError("--gelf-advertise needs --gelf-bind: the address the server listens on");
    run.gelf_advertise = args.gelf_advertise;
  }
}

}  // namespace runner
