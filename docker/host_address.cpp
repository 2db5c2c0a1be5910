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

bool is_local_address(const std::string& address) {
  in_addr v4{};
  in6_addr v6{};
  const bool is_v4 = inet_pton(AF_INET, address.c_str(), &v4) == 1;
  const bool is_v6 = !is_v4 && inet_pton(AF_INET6, address.c_str(), &v6) == 1;
  if (!is_v4 && !is_v6) return false;
  if (is_v4 && v4.s_addr == htonl(INADDR_ANY)) return true;
  if (is_v6 && IN6_IS_ADDR_UNSPECIFIED(&v6)) return true;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return false;
  const std::unique_ptr<ifaddrs, decltype(&freeifaddrs)> owner(list, &freeifaddrs);
  for (const ifaddrs* it = list; it != nullptr; it = it->ifa_next) {
    if (it->ifa_addr == nullptr) continue;
    if (is_v4 && it->ifa_addr->sa_family == AF_INET &&
        reinterpret_cast<const sockaddr_in*>(it->ifa_addr)->sin_addr.s_addr == v4.s_addr)
      return true;
    if (is_v6 && it->ifa_addr->sa_family == AF_INET6 &&
        IN6_ARE_ADDR_EQUAL(&reinterpret_cast<const sockaddr_in6*>(it->ifa_addr)->sin6_addr, &v6))
      return true;
  }
  return false;
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
