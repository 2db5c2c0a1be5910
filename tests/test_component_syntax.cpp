// Component value syntax: image references (distribution's grammar), users, capabilities, ids
// and variable names, each a linear check over a bounded string.
#include "runner/component_syntax.hpp"

#include <catch2/catch.hpp>

#include <string>

using runner::image_reference_problem;
using runner::user_problem;

TEST_CASE("image references the engine accepts", "[runner][component][syntax]") {
  for (const char* ok :
       {"busybox", "busybox:1.36", "runner-busybox:latest", "library/busybox",
        "my-org/ex_orders:1.4", "a__b/c--d/e.f:v1.2-rc_3", "registry.example.com/team/app:v2",
        "registry.example.com:5000/team/app", "localhost/app", "localhost:5000/app:dev",
        "Registry.Example/app", "[::1]:5000/app", "192.168.1.10:5000/x",
        "app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "app:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "x:_tag",
        "x:T.a-G"}) {
    INFO(ok);
    CHECK_FALSE(image_reference_problem(ok).has_value());
  }
}

TEST_CASE("image references the engine refuses", "[runner][component][syntax]") {
  const std::pair<std::string, std::string> cases[] = {
      {"UPPER/../x::", "the tag after ':' is empty"},
      {"Busybox", "the repository name must be lower-case"},
      {"busybox:", "the tag after ':' is empty"},
      {"busybox:-x", "the tag must start with a letter, digit or '_'"},
      {"busybox:a b", "the tag may hold only letters"},
      {"busybox:" + std::string(129, 'a'), "the tag is longer than 128 characters"},
      {"a..b", "is not lower-case letters and digits"},
      {"a/", "empty part"},
      {"/a", "empty part"},
      {"a//b", "empty part"},
      {"-a", "is not lower-case letters and digits"},
      {"a-", "is not lower-case letters and digits"},
      {"a___b", "is not lower-case letters and digits"},
      {"a._b", "is not lower-case letters and digits"},
      {"reg.example.com:abc/x", "the registry port must be a number"},
      {"-reg.com/x", "is not a host name"},
      {"[::1/x", "no closing ']'"},
      {"x@sha256:abc", "at least 32 hex digits"},
      {"x@:0123456789abcdef0123456789abcdef", "digest algorithm"},
      {"x@sha256", "algorithm:hex"},
      {"", "it is empty"},
      {std::string(256, 'a'), "longer than 255"},
      {std::string(100000, 'a'), "longer than 512"},
      {"x y", "is not lower-case letters and digits"},
      {std::string("a\0b", 3), "is not lower-case letters and digits"},
  };
  for (const auto& [reference, problem] : cases) {
    INFO(reference.substr(0, 60));
    const auto found = image_reference_problem(reference);
    REQUIRE(found.has_value());
    CHECK_THAT(*found, Catch::Contains(problem));
  }
}

TEST_CASE("user syntax: name|uid[:group|gid]", "[runner][component][syntax]") {
  for (const char* ok : {"1000", "0", "1000:1000", "app", "app:staff", "www-data", "svc.acct$",
                         "_apt", "2147483647:0", "nobody:65534"})
    CHECK_FALSE(user_problem(ok).has_value());
  const std::pair<std::string, std::string> cases[] = {
      {"-1", "id must be a number from 0 to 2147483647"},
      {"1000:-1", "group id must be a number"},
      {"2147483648", "from 0 to 2147483647"},
      {"99999999999999999999", "from 0 to 2147483647"},
      {"a:b:c", "more than one ':'"},
      {"1000:", "the group is empty"},
      {":1000", "the user is empty"},
      {"-rf", "may not start with '-'"},
      {"a b", "may hold only"},
      {std::string("ro\0ot", 5), "may hold only"},
      {std::string(100000, 'u'), "longer than 513"},
  };
  for (const auto& [user, problem] : cases) {
    INFO(user.substr(0, 40));
    const auto found = user_problem(user);
    REQUIRE(found.has_value());
    CHECK_THAT(*found, Catch::Contains(problem));
  }
}

TEST_CASE("capability names as the engine spells them", "[runner][component][syntax]") {
  CHECK(runner::capability_name("NET_RAW") == "NET_RAW");
  CHECK(runner::capability_name("cap_net_raw") == "NET_RAW");
  CHECK(runner::capability_name("Sys_Ptrace") == "SYS_PTRACE");
  CHECK_FALSE(runner::capability_name("ALL").has_value());
  CHECK_FALSE(runner::capability_name("NET_RAWX").has_value());
  CHECK_FALSE(runner::capability_name(std::string(100000, 'A')).has_value());
}

TEST_CASE("ids and variable names, bounded and linear", "[runner][component][syntax]") {
  CHECK(runner::is_component_id("my-org.ex-hello_2"));
  CHECK_FALSE(runner::is_component_id(".hidden"));
  CHECK_FALSE(runner::is_component_id(std::string(100000, 'a')));  // std::regex overflowed here
  CHECK(runner::is_component_id(std::string(255, 'a')));
  CHECK(runner::is_env_name("_A1"));
  CHECK_FALSE(runner::is_env_name("1A"));
  CHECK_FALSE(runner::is_env_name("A-B"));
  CHECK_FALSE(runner::is_env_name(std::string(100000, 'A')));
}
