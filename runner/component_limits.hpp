// The "limits" section of a component (memory, swap, CPUs, processes, timeout), parsed into
// ComponentSpec::limits with its problems added to the list. Its own file because the bounds are
// the engine's and the kernel's, and more limits (issue 13's processors have their own) will
// grow here.
#pragma once

#include "runner/component.hpp"
#include "runner/component_fields.hpp"

namespace runner {

void parse_limits(const nlohmann::json& doc, ComponentSpec& spec, ProblemList& problems);

}  // namespace runner
