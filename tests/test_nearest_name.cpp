// nearest_name() and edit_distance(): the "did you mean" hints of the command line.
#include "common/nearest_name.hpp"

#include <catch2/catch.hpp>

using runner::edit_distance;
using runner::nearest_name;

TEST_CASE("edit distance counts insertions, deletions, substitutions and swaps", "[cli][hints]") {
  CHECK(edit_distance("", "") == 0);
  CHECK(edit_distance("run", "run") == 0);
  CHECK(edit_distance("runn", "run") == 1);
  CHECK(edit_distance("rn", "run") == 1);
  CHECK(edit_distance("rum", "run") == 1);
  CHECK(edit_distance("rnu", "run") == 1);  // a swap of neighbours is one edit
  CHECK(edit_distance("--dat-dir", "--data-dir") == 1);
  CHECK(edit_distance("", "jobs") == 4);
  CHECK(edit_distance("kitten", "sitting") == 3);
}

TEST_CASE("the nearest name is suggested only when it is a plausible typo", "[cli][hints]") {
  const std::vector<std::string> commands = {"run",    "jobs",   "logs", "show",    "submit",
                                             "cancel", "worker", "ship", "version", "gc"};
  CHECK(nearest_name("runn", commands) == "run");
  CHECK(nearest_name("jbos", commands) == "jobs");
  CHECK(nearest_name("canel", commands) == "cancel");
  CHECK(nearest_name("verison", commands) == "version");
  CHECK_FALSE(nearest_name("deploy", commands));
  CHECK_FALSE(nearest_name("", commands));
  CHECK_FALSE(nearest_name("x", std::vector<std::string>{}));

  const std::vector<std::string> options = {"--data-dir", "--keep-data", "--events", "--outputs"};
  CHECK(nearest_name("--dat-dir", options) == "--data-dir");
  CHECK(nearest_name("--output", options) == "--outputs");
  CHECK(nearest_name("--keep", options) == "--keep-data");  // the start of exactly one name
  CHECK_FALSE(nearest_name("--zzzzzzzz", options));
}

TEST_CASE("ties go to the name listed first", "[cli][hints]") {
  CHECK(nearest_name("ab", {"aa", "bb"}) == "aa");
  CHECK(nearest_name("ab", {"bb", "aa"}) == "bb");
}
