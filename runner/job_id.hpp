// new_job_id: a UUIDv7 string. Time-ordered, so ids sort by start time, and random enough
// (74 bits from OpenSSL's RNG) to stay unique across many runners sharing one store.
#pragma once

#include <string>

namespace runner {
std::string new_job_id();
}
