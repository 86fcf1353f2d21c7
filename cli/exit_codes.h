// The one place where a Status becomes what the operator sees: a single
// sentence on stderr and an exit code. Codes (README, "Exit codes"):
//   0  success
//   1  failure (including `check` finding damage)
//   2  wrong usage
//   3  backup committed, but some source items could not be read
//   10 no repository at the given path
//   11 repository locked by another qm-snap
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace qm::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitPartial = 3;
inline constexpr int kExitNoRepository = 10;
inline constexpr int kExitLocked = 11;

// Logs `status` as one error sentence and returns its exit code.
int ReportError(const Status& status);

// An archive that failed its checks: each problem on its own stderr line,
// then one error sentence, "<what>: N problem(s) found (see above); <outcome>".
// Returns kExitFailure.
int ReportProblems(const std::vector<std::string>& problems, const std::string& what, const std::string& outcome);

}  // namespace qm::cli
