#include "cli/exit_codes.h"

#include <spdlog/spdlog.h>

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

}  // namespace qm::cli
