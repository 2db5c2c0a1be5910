// bridge_host_address: see the header. getifaddrs for the interface fallback.
#include "docker/host_address.hpp"

#include "docker/engine_errors.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <array>
#include <memory>

namespace runner::docker {

std::optional<std::string> interface_ipv4(const std::string& interface_name) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return std::nullopt;
  const std::unique_ptr<ifaddrs, decltype(&freeifaddrs)> owner(list, &freeifaddrs);
  for (const ifaddrs* it = list; it != nullptr; it = it->ifa_next) {
    if (it->ifa_addr == nullptr || it->ifa_addr->sa_family != AF_INET) continue;
    if (interface_name != it->ifa_name) continue;
    std::array<char, INET_ADDRSTRLEN> text{};
    const auto* in = reinterpret_cast<const sockaddr_in*>(it->ifa_addr);
    if (inet_ntop(AF_INET, &in->sin_addr, text.data(), text.size()) != nullptr) return text.data();
  }
  return std::nullopt;
}

std::string bridge_host_address(EngineClient& client) {
  std::string gateway = client.network_gateway("bridge");
  if (!gateway.empty()) return gateway;
  if (auto address = interface_ipv4("docker0")) return *address;
  throw EngineError(
      "cannot find the address containers reach this host by: the bridge network reports no "
      "gateway and there is no docker0 interface");
}

}  // namespace runner::docker
