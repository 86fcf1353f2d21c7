// Consistent capture of a live SQLite database, page by page.
//
// Open() starts a read transaction on a read-only connection (so the copy is
// one committed state, including commits that still live only in the -wal
// file, and qm-snap never checkpoints: a read-only connection cannot).
// Stream() then hands that state to the caller page by page, no temporary
// copy on disk, memory bounded by 1 MiB of pages (plus, in WAL mode, 16 bytes
// per WAL frame). It reads the files itself, under guarantees the held read
// transaction gives (StreamFiles and StreamWal in the .cc): in rollback mode
// the database file; in WAL mode the database file and the WAL frames of the
// state, once the WAL-index header the transaction began at is known and
// every frame checks against it. Otherwise (a WAL-mode state that could not
// be pinned, or frames that do not check) it copies the state with SQLite's
// online backup API into a destination opened on a private VFS whose xWrite
// hands each page to the caller instead of writing a file. The backup API
// delivers pages 2..N in ascending order and page 1 when its pager commits
// (usually last); the caller gets each page once. It bumps three header
// counters in its copy; page 1 is given with the source's values restored,
// so a quiescent database is reproduced byte for byte. End() (or
// destruction) ends the read transaction; `read_hold_ms` is how long it was
// held.
//
// In WAL mode writers are never blocked by the read transaction. In
// rollback-journal mode a read transaction holds a SHARED lock: a writer
// trying to commit waits (up to its own busy timeout) until End().
//
// Not thread-safe: one thread calls its methods (it may start a thread of
// its own for quick_check, below).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/result.h"
#include "core/sqlite_wal.h"

namespace qm {

// True when `header` (the first bytes of a file) starts with SQLite's magic.
bool LooksLikeSqlite(ByteView header);

// Whether a source checks its state with PRAGMA quick_check. kSkip: no
// check connection is opened, StartQuickCheck and WaitQuickCheck do
// nothing, and info().quick_check stays "" (not run).
enum class SqliteCheck { kRun, kSkip };

struct SqliteStateInfo {
  uint32_t page_size = 0;
  uint64_t page_count = 0;
  int64_t data_version = 0;
  bool wal = false;         // journal_mode is WAL
  std::string quick_check;  // "ok", the first problems found, or "" (not run)
  double read_hold_ms = 0;
  // The "ok" came from the split check (StartQuickCheck): per-table checks
  // on two connections and the page accounting of the streamed pages.
  bool split_check = false;
  // The pages were read from the files themselves (the database file, and
  // in WAL mode wal_frames_read of them from their -wal frames), not
  // through the online backup API.
  bool direct_read = false;
  uint64_t wal_frames_read = 0;
  // A WAL restart rewrote frames of the state during the copy; the pages
  // they held were read from the database file (see StreamWal in the .cc).
  bool wal_restarted = false;
};

class SqliteSource {
 public:
  // Called once per page, `page_no` 1-based: pages 2..page_count in
  // ascending order, and page 1 once, at any point (SQLite's pager writes
  // the header page when it commits, i.e. usually last).
  using PageFn = std::function<Status(uint64_t page_no, ByteView page)>;

  // Opens `path` read-only and begins a read transaction, waiting up to
  // `busy_timeout_ms` for a lock. Errors name the file: not a database,
  // encrypted, corrupt, or locked past the timeout.
  static Result<std::unique_ptr<SqliteSource>> Open(const std::string& path, int busy_timeout_ms,
                                                    SqliteCheck check = SqliteCheck::kRun);
  ~SqliteSource();

  const SqliteStateInfo& info() const { return info_; }

  // PRAGMA quick_check of the transaction's state. The source usually holds
  // a second connection in the same committed state (CanCheckConcurrently():
  // in rollback-journal mode kept there by the SHARED lock, in WAL mode
  // proven by the WAL-index header, see PinWalState in the .cc);
  // StartQuickCheck() then runs the check on
  // a thread of its own on that connection, beside Stream() and beside the
  // other databases' checks, so a backup's checks all start at once instead
  // of one after the other. Otherwise it does nothing. Idempotent.
  //
  // From SplitCheckMinPages() pages up (a 1 GiB database's check alone is
  // 1.7 s), and when a third connection in the same state can be had, the
  // check is split: PRAGMA quick_check(TABLE) for sqlite_schema and every
  // table, on two connections and threads, plus the page accounting the
  // per-table form skips (core/sqlite_page_audit.h), done on the pages that
  // Stream() delivers. All "ok" is reported as "ok" (and split_check); any
  // problem, or a stream that did not deliver every page, makes
  // WaitQuickCheck run the full PRAGMA quick_check for SQLite's own verdict.
  // Auto-vacuum databases are always checked whole, and so are WAL-mode ones
  // whose state could not be pinned with the third connection (PinWalState).
  void StartQuickCheck();
  static uint64_t SplitCheckMinPages();
  static void SetSplitCheckMinPages(uint64_t pages);  // for tests
  // Tests only (not thread-safe): called in WAL mode between the beginning
  // of the source's read transaction and the check connection's, where a
  // commit must cost the concurrent check, never its "same state".
  static void SetBetweenBeginsHookForTest(std::function<void()> hook);
  // WAL mode: how many times Open tries to begin its read transactions
  // between two equal readings of the WAL-index header (PinWalState).
  static constexpr int kWalPinTries = 10;
  // Tests only: false makes WAL-mode Stream use the online backup API.
  static void SetReadWalDirectlyForTest(bool enabled);
  // Waits for the check started above, or runs it here (on the calling
  // thread, before or after Stream, never during it) when none was started.
  // Its result goes to info().quick_check, and is also the returned status
  // when not "ok". Idempotent: a second call returns the first's status.
  Status WaitQuickCheck();
  bool CanCheckConcurrently() const;
  // Streams the pages of the transaction's state: read straight from the
  // files (pages 1..N in order; see the top of this file), or through the
  // online backup API (page 1 at any point).
  Status Stream(const PageFn& fn);
  // Ends the read transaction (idempotent); fixes info().read_hold_ms.
  void End();

 private:
  SqliteSource() = default;
  Status StreamFiles(const PageFn& fn, const std::vector<WalPageFrame>* frames);
  Status StreamWal(const PageFn& fn, bool* done);
  Status ReadStatePage(const WalPageFrame& e, uint8_t* out, bool* from_frame);
  Status BeginAndReadState(bool begin = true);
  void OpenCheckConnection();
  Status PinWalState();
  bool PrepareSplitCheck();
  void JoinCheckThreads();
  void SplitCheckVerdict();
  struct Impl;
  std::unique_ptr<Impl> impl_;
  SqliteStateInfo info_;
};

}  // namespace qm
