// Durability under failures: a backup that meets a failing write, fsync,
// rename or directory sync at ANY step -- followed by a simulated power cut
// that drops everything not yet fsynced -- leaves `check` clean, every
// earlier snapshot restorable byte for byte, no half snapshot listed, and
// the next backup working.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "store/ops/archiver.h"
#include "store/ops/checker.h"
#include "store/ops/restorer.h"
#include "tests/support/fault_injection_env.h"
#include "tests/support/test_util.h"

namespace qm {
namespace {

namespace fs = std::filesystem;

class FaultSweepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = dir_.path() + "/src";
    base_ = dir_.path() + "/base";
    // Several MiB of mixed data and a 1 MiB pack target, so one backup seals
    // several packs and every step of the protocol happens more than once.
    std::string db = RandomBytes(1 << 20, 1) + std::string(1 << 20, 'q') + RandomBytes(1 << 20, 2);
    WriteStringToFile(src_ + "/bulk/quantmesh.bin", db);
    WriteStringToFile(src_ + "/bulk/auth.bin", RandomBytes(40000, 3));
    WriteStringToFile(src_ + "/bulk/webauthn.bin", RandomBytes(9000, 4));
    WriteStringToFile(src_ + "/bulk/logs.bin", RandomBytes(300000, 5));
    WriteStringToFile(src_ + "/config.yaml", "api_key: abc\n");
    RepoConfig cfg;
    cfg.pack_target_size = 1 << 20;
    ASSERT_TRUE(Repository::Init(Env::Default(), base_, cfg).ok());
    first_ = BackupWith(Env::Default(), base_);
    ASSERT_FALSE(first_.IsZero());
    first_files_ = FilesUnder(src_);
    // The second backup (the one that will meet faults) adds new and changed data.
    std::string changed = RandomBytes(700000, 6);
    WriteStringToFile(src_ + "/bulk/quantmesh.bin", db.substr(0, 1 << 20) + changed + db.substr(2 << 20));
    WriteStringToFile(src_ + "/bulk/logs.bin", RandomBytes(600000, 7));
  }

  // Returns the new snapshot's id, or zero when the backup failed.
  Hash256 BackupWith(Env* env, const std::string& root, Status* status = nullptr, int64_t time = 1738130400) {
    auto repo = Repository::Open(env, root, OpenMode::kWrite);
    if (!repo.ok()) {
      if (status) *status = repo.status();
      return Hash256{};
    }
    BackupOptions opt;
    opt.source = src_;
    opt.extra_paths = {"bulk"};  // plain files: this test is about the store, not about reading databases
    opt.time_unix = time;
    opt.threads = threads_;
    auto r = Backup(repo->get(), opt, nullptr);
    if (status) *status = r.ok() ? Status::OK() : r.status();
    return r.ok() ? r->snapshot_id : Hash256{};
  }

  void ExpectHealthy(const std::string& root, const std::string& what) {
    auto repo = Repository::Open(Env::Default(), root, OpenMode::kReadOnly);
    ASSERT_TRUE(repo.ok()) << what << ": " << repo.status().ToString();
    auto report = Check(repo->get(), CheckOptions{/*read_data=*/true}, nullptr);
    ASSERT_TRUE(report.ok()) << what;
    EXPECT_TRUE(report->ok()) << what << ": " << (report->errors.empty() ? "" : report->errors[0]);
  }

  std::map<std::string, std::string> RestoreFiles(const std::string& root, const Hash256& id, const std::string& to) {
    auto repo = Repository::Open(Env::Default(), root, OpenMode::kReadOnly);
    EXPECT_TRUE(repo.ok());
    if (!repo.ok()) return {};
    auto snap = (*repo)->FindSnapshot(id.Hex());
    EXPECT_TRUE(snap.ok()) << snap.status().ToString();
    if (!snap.ok()) return {};
    auto r = Restore(repo->get(), *snap, RestoreOptions{to}, nullptr);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return FilesUnder(to);
  }

  size_t SnapshotCount(const std::string& root) {
    auto repo = Repository::Open(Env::Default(), root, OpenMode::kReadOnly);
    if (!repo.ok()) return 0;
    auto list = (*repo)->ListSnapshots();
    return list.ok() ? list->size() : 0;
  }

  void CopyBase(const std::string& to) {
    fs::remove_all(to);
    fs::copy(base_, to, fs::copy_options::recursive);
  }

  // The second backup, into a copy of the base, meets a fault at mutating
  // operation `n` (EIO once, or ENOSPC from there on), then a power cut;
  // then: check clean, one or two snapshots, the first restores byte for
  // byte, and the next backup works and restores the current data. Sets
  // *committed when the faulted backup still committed (a fault after the
  // commit point).
  void FaultedBackupLosesNothing(uint64_t n, bool sticky_no_space, bool* committed) {
    const std::string root = dir_.path() + "/r";
    CopyBase(root);
    {
      FaultInjectionEnv fenv(Env::Default());
      fenv.FailAtOp(n, sticky_no_space ? Code::kNoSpace : Code::kIOError);
      fenv.SetSticky(sticky_no_space);
      Status s;
      Hash256 id = BackupWith(&fenv, root, &s);
      ASSERT_TRUE(fenv.injected());
      *committed = !id.IsZero();
      fenv.ClearFaults();
      fenv.DropUnsyncedData().IgnoreError();  // the power cut; errors here are about leftovers only
    }
    ExpectHealthy(root, "after the fault");
    size_t count = SnapshotCount(root);
    EXPECT_TRUE(count == 1 || count == 2) << count;
    EXPECT_EQ(first_files_, RestoreFiles(root, first_, dir_.path() + "/out1"));
    fs::remove_all(dir_.path() + "/out1");
    Hash256 next = BackupWith(Env::Default(), root, nullptr, 1738134000);
    ASSERT_FALSE(next.IsZero());
    ExpectHealthy(root, "after the next backup");
    EXPECT_EQ(FilesUnder(src_), RestoreFiles(root, next, dir_.path() + "/out2"));
    fs::remove_all(dir_.path() + "/out2");
  }

  // Hashing/compression workers for BackupWith (0: one per core). A sweep
  // over "every step" needs one sequence of steps: with several workers each
  // fills a pack of its own, so how many packs a backup seals, and so how
  // many file operations it makes, depends on how they interleave.
  unsigned threads_ = 0;
  TempDir dir_;
  std::string src_, base_;
  Hash256 first_;
  std::map<std::string, std::string> first_files_;
};

TEST_F(FaultSweepTest, AFailureAtEveryStepOfABackupLosesNothingCommitted) {
  threads_ = 1;  // one sequence of steps (see threads_)
  // Count the operations a clean second backup makes.
  const std::string probe = dir_.path() + "/probe";
  CopyBase(probe);
  FaultInjectionEnv counter(Env::Default());
  ASSERT_FALSE(BackupWith(&counter, probe).IsZero());
  const uint64_t total = counter.mutating_ops();
  ASSERT_GT(total, 20u) << "the backup should take many steps";

  const uint64_t stride = total > 150 ? total / 150 + 1 : 1;
  size_t committed = 0;
  for (uint64_t n = 1; n <= total; n += stride) {
    for (int variant = 0; variant < 2; variant++) {
      SCOPED_TRACE("operation " + std::to_string(n) + " of " + std::to_string(total) +
                   (variant ? " (ENOSPC, sticky)" : " (EIO, once)"));
      bool was_committed = false;
      FaultedBackupLosesNothing(n, variant == 1, &was_committed);
      if (was_committed) committed++;  // the fault hit a step after the commit point
      if (HasFatalFailure()) return;
    }
  }
  // Faults after the commit point (e.g. the final directory sync) may leave
  // the snapshot committed; most faults must not.
  EXPECT_LT(committed, total);
}

TEST_F(FaultSweepTest, AShortWriteAtEveryAppendIsRecoveredFrom) {
  threads_ = 1;  // one sequence of steps (see threads_)
  const std::string probe = dir_.path() + "/probe";
  CopyBase(probe);
  FaultInjectionEnv counter(Env::Default());
  ASSERT_FALSE(BackupWith(&counter, probe).IsZero());
  const uint64_t total = counter.mutating_ops();
  const uint64_t stride = total > 60 ? total / 60 + 1 : 1;
  for (uint64_t n = 1; n <= total; n += stride) {
    SCOPED_TRACE("short write at operation " + std::to_string(n));
    const std::string root = dir_.path() + "/r";
    CopyBase(root);
    {
      FaultInjectionEnv fenv(Env::Default());
      fenv.SetShortWriteAtOp(n);
      Status s;
      BackupWith(&fenv, root, &s);
      fenv.ClearFaults();
      fenv.DropUnsyncedData().IgnoreError();
    }
    ExpectHealthy(root, "after a short write");
    EXPECT_EQ(first_files_, RestoreFiles(root, first_, dir_.path() + "/out1"));
    fs::remove_all(dir_.path() + "/out1");
    if (HasFatalFailure()) return;
  }
}

// With two workers each filling a pack of its own, a failure a quarter and
// halfway into the backup (early enough to be met however the workers
// interleave: they change the count by a pack's few operations) loses
// nothing committed either, and the next backup works.
TEST_F(FaultSweepTest, AFailureWhileTwoWorkersFillTheirOwnPacksLosesNothingCommitted) {
  threads_ = 2;
  const std::string probe = dir_.path() + "/probe";
  CopyBase(probe);
  FaultInjectionEnv counter(Env::Default());
  ASSERT_FALSE(BackupWith(&counter, probe).IsZero());
  const uint64_t total = counter.mutating_ops();
  ASSERT_GT(total, 20u);
  for (uint64_t n : {total / 4, total / 2}) {
    for (int variant = 0; variant < 2; variant++) {
      SCOPED_TRACE("operation " + std::to_string(n) + " of about " + std::to_string(total) +
                   (variant ? " (ENOSPC, sticky)" : " (EIO, once)"));
      bool committed = false;
      FaultedBackupLosesNothing(n, variant == 1, &committed);
      EXPECT_FALSE(committed) << "a fault this early is before the commit point";
      if (HasFatalFailure()) return;
    }
  }
}

TEST_F(FaultSweepTest, FailingFsyncsNeverCommitASnapshot) {
  const std::string root = dir_.path() + "/r";
  CopyBase(root);
  {
    FaultInjectionEnv fenv(Env::Default());
    fenv.FailSyncs(true);
    Status s;
    EXPECT_TRUE(BackupWith(&fenv, root, &s).IsZero()) << "a backup whose fsyncs fail must not report success";
    EXPECT_FALSE(s.ok());
    fenv.ClearFaults();
    fenv.DropUnsyncedData().IgnoreError();
  }
  ExpectHealthy(root, "after failing fsyncs");
  EXPECT_EQ(1u, SnapshotCount(root));
}

TEST_F(FaultSweepTest, AnUnreadableSourceFileMakesAPartialSnapshotOfTheRest) {
  const std::string root = dir_.path() + "/r";
  CopyBase(root);
  FaultInjectionEnv fenv(Env::Default());
  fenv.FailReadsOf("logs.bin");
  auto repo = Repository::Open(&fenv, root, OpenMode::kWrite);
  ASSERT_TRUE(repo.ok());
  BackupOptions opt;
  opt.source = src_;
  opt.extra_paths = {"bulk"};
  opt.time_unix = 1738134000;
  auto r = Backup(repo->get(), opt, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(1u, r->errors.size());
  EXPECT_EQ("bulk/logs.bin", r->errors[0].path);
  EXPECT_NE(0u, r->record.flags & kSnapshotPartial);
  repo->reset();
  auto files = RestoreFiles(root, r->snapshot_id, dir_.path() + "/out");
  EXPECT_EQ(0u, files.count("bulk/logs.bin"));
  EXPECT_EQ(ReadFileToString(src_ + "/bulk/quantmesh.bin"), files["bulk/quantmesh.bin"]);
}

// A restore writes each file under a temporary name and hands its fsync,
// mode, mtime and rename to a finishing thread while the next file is
// written. A failure at any step of that (write, fsync, rename, directory
// sync, in either thread) makes the restore fail, leaves no temporary file
// behind, and every file under its real name whole.
TEST_F(FaultSweepTest, AFailureAtEveryStepOfARestoreIsReportedAndLeavesNoHalfFile) {
  const std::map<std::string, std::string> want = first_files_;
  bool completed = false;
  for (uint64_t n = 1; n < 400 && !completed; n++) {
    const std::string to = dir_.path() + "/restore-" + std::to_string(n);
    FaultInjectionEnv fenv(Env::Default());
    auto repo = Repository::Open(&fenv, base_, OpenMode::kReadOnly);
    ASSERT_TRUE(repo.ok()) << repo.status().ToString();
    auto snap = (*repo)->FindSnapshot(first_.Hex());
    ASSERT_TRUE(snap.ok());
    fenv.ResetCounter();
    fenv.FailAtOp(n);
    auto r = Restore(repo->get(), *snap, RestoreOptions{to}, nullptr);
    const bool injected = fenv.mutating_ops() >= n;
    fenv.ClearFaults();
    if (r.ok()) {
      EXPECT_FALSE(injected) << "op " << n << " failed, yet the restore reported success";
      EXPECT_EQ(want, FilesUnder(to)) << "op " << n;
      completed = true;
      continue;
    }
    EXPECT_TRUE(injected) << "restore failed with no fault injected at op " << n << ": " << r.status().ToString();
    if (!fs::exists(to)) continue;  // creating the target failed
    for (const auto& [rel, bytes] : FilesUnder(to)) {
      EXPECT_EQ(rel.find(".qm-restore-tmp"), std::string::npos) << "left behind at op " << n << ": " << rel;
      if (rel.find(".qm-restore-tmp") != std::string::npos) continue;
      ASSERT_TRUE(want.count(rel)) << rel;
      EXPECT_TRUE(want.at(rel) == bytes) << rel << " is half written after a failure at op " << n;
    }
  }
  EXPECT_TRUE(completed) << "the sweep never reached a restore without faults";
}

}  // namespace
}  // namespace qm
