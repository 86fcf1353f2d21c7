#include "cli/exit_codes.h"

#include <spdlog/spdlog.h>

#include <cstdio>

namespace qm::cli {

int ReportError(const Status& status) {
  std::string msg = status.message();
  if (msg.empty()) msg = std::string(CodeName(status.code()));
  spdlog::error("{}", msg);
  switch (status.code()) {
    case Code::kInvalidArgument: return kExitUsage;
    case Code::kLocked: return kExitLocked;
    case Code::kNotFound: return msg.rfind("no repository at ", 0) == 0 ? kExitNoRepository : kExitFailure;
    default: return kExitFailure;
  }
}

int ReportProblems(const std::vector<std::string>& problems, const std::string& what, const std::string& outcome) {
  for (const std::string& p : problems) std::fprintf(stderr, "qm-snap: problem: %s\n", p.c_str());
  std::string tail = std::to_string(problems.size()) + " problem(s) found (see above)";
  if (!outcome.empty()) tail += "; " + outcome;
  return ReportError(Status::Corruption(what, tail));
}

}  // namespace qm::cli
