// Hostile-input checks every local cache format (core/cache_record.h framing)
// must pass: every truncation, a trailing byte, an unknown version, and any
// flipped byte (the checksum covers them all) are refused.
#pragma once

#include <gtest/gtest.h>

#include <functional>

#include "core/bytes.h"
#include "core/status.h"

namespace qm {

// `decode` returns the decoder's status for its input; `enc` is a valid
// encoding; `bad_version` a version byte the decoder must refuse.
void ExpectCacheRecordRefusesDamage(ByteView enc, const std::function<Status(ByteView)>& decode, uint8_t bad_version);

// Reseals a record after a deliberate edit: a new checksum over all but its
// last 8 bytes, so only the decoder's own bounds checks stand in the way.
Bytes ResealCacheRecord(Bytes record);

}  // namespace qm
