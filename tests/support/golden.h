// Golden files: encoder output checked byte for byte against files in
// tests/golden/, so an accidental format change fails a test instead of
// silently making old repositories unreadable.
//
// Run a test binary with QMSNAP_UPDATE_GOLDEN=1 to (re)write the files after
// a deliberate, documented format change (docs/format.md).
#pragma once

#include <string>

#include "core/bytes.h"

namespace qm {

// ADD_FAILURE()s when tests/golden/<name> is missing or differs from `actual`.
void ExpectMatchesGolden(const std::string& name, ByteView actual);
// The golden file's bytes ("" plus a failure if missing).
std::string ReadGolden(const std::string& name);

}  // namespace qm
