// bridge_host_address: the address a container on the default bridge network reaches the host by.
//
// The bridge network's gateway when the engine reports one; Debian's engine does not, so then the
// IPv4 address of the bridge interface (docker0), which is the same thing. Used to bind the GELF
// server a job hosts, so only containers (and this host) can reach it.
#pragma once

#include "docker/engine_client.hpp"

#include <optional>
#include <string>

namespace runner::docker {

// IPv4 address of a network interface, e.g. interface_ipv4("docker0") -> "172.17.0.1".
std::optional<std::string> interface_ipv4(const std::string& interface_name);
// Whether `address` (IPv4 or IPv6 text) is one of this machine's interface addresses, or the
// wildcard (0.0.0.0, ::).
bool is_local_address(const std::string& address);
// Throws EngineError when neither source gives an address.
std::string bridge_host_address(EngineClient& client);

}  // namespace runner::docker
