// ProgressSink: how operations report what happens while they run. The
// library never prints; the CLI implements a sink that logs or collects.
// Default methods ignore the event.
//
// Thread-safety: operations call a sink from one thread at a time.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace qm {

class ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  // Something worth telling the operator that does not fail the run.
  virtual void Warning(const std::string& /*message*/) {}
  // One source item could not be taken; the run continues and ends partial.
  virtual void ItemError(const std::string& /*path*/, const Status& /*status*/) {}
  // A file was stored (`reused`: unchanged since the parent, not re-read).
  virtual void FileDone(const std::string& /*path*/, uint64_t /*size*/, bool /*reused*/) {}
};

}  // namespace qm
