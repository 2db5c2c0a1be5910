// MissingEvents (store_sink.hpp): the record of lost sequences stays exact whatever order the
// ranges arrive in (the writer's failed batches and the job thread's refused blocks race), and
// keeps the first cause.
#include "store/store_sink.hpp"

#include <catch2/catch.hpp>

using runner::store::MissingEvents;

TEST_CASE("missing sequence ranges are exact in any order of arrival", "[store][missing]") {
  MissingEvents m;
  m.add(9957, 23232, "disk full");
  m.add(26552, 30000, "");  // the job's thread, before the writer's next failed batch
  m.add(30001, 40000, "later");
  m.add(23233, 26551, "given up");  // the writer's batch that was in flight
  CHECK(m.text() == "9957-40000");
  CHECK(m.count() == 40000 - 9957 + 1);
  CHECK(m.reason == "disk full");

  MissingEvents gaps;
  gaps.add(50, 60, "b");
  gaps.add(10, 20, "a");
  gaps.add(30, 30, "c");
  gaps.add(15, 25, "d");    // overlaps the first
  gaps.add(0, 5, "never");  // sequence 0 does not exist: ignored
  gaps.add(9, 8, "empty");  // first > last: ignored
  CHECK(gaps.text() == "10-25,30,50-60");
  CHECK(gaps.count() == 16 + 1 + 11);
  CHECK(gaps.reason == "b");
  gaps.add(26, 49, "e");  // fills every hole
  CHECK(gaps.text() == "10-60");
}
