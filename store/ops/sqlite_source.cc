#include "store/ops/sqlite_source.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/sqlite_page_audit.h"
#include "core/sqlite_wal.h"

namespace qm {

namespace {

constexpr char kSqliteMagic[] = "SQLite format 3";  // 16 bytes with the NUL
constexpr char kSinkVfsName[] = "qmsnap-sink";

// Receives the destination's writes and turns them into ordered pages.
struct PageSink {
  uint32_t page_size = 0;
  uint64_t next_page = 2;  // pages 2..N come in ascending order
  uint64_t delivered = 0;
  Bytes page1;  // page 1 comes whenever the pager flushes it
  // The source's header counters, put back into page 1 (see Stream()).
  uint8_t change_counter[4] = {};
  uint8_t schema_cookie[4] = {};
  const SqliteSource::PageFn* fn = nullptr;
  Status status;

  int Write(const void* data, int amount, sqlite3_int64 offset) {
    if (!status.ok()) return SQLITE_IOERR_WRITE;
    if (amount != static_cast<int>(page_size) || offset % page_size != 0) {
      status = Status::Corruption("SQLite backup wrote " + std::to_string(amount) + " bytes at offset " +
                                  std::to_string(offset) + ", not one page");
      return SQLITE_IOERR_WRITE;
    }
    const uint64_t page_no = static_cast<uint64_t>(offset) / page_size + 1;
    ByteView page(static_cast<const uint8_t*>(data), page_size);
    if (page_no == 1) {
      if (!page1.empty()) return SQLITE_OK;  // a later rewrite of the header: keep the first
      page1.assign(page.begin(), page.end());
      std::memcpy(page1.data() + 24, change_counter, 4);
      std::memcpy(page1.data() + 92, change_counter, 4);  // version-valid-for = change counter
      std::memcpy(page1.data() + 40, schema_cookie, 4);
      page = ByteView(page1.data(), page1.size());
    } else if (page_no != next_page) {
      status = Status::Corruption("SQLite backup wrote page " + std::to_string(page_no) + " when page " +
                                  std::to_string(next_page) + " was expected");
      return SQLITE_IOERR_WRITE;
    } else {
      next_page++;
    }
    status = (*fn)(page_no, page);
    if (!status.ok()) return SQLITE_IOERR_WRITE;
    delivered++;
    return SQLITE_OK;
  }
};

struct SinkFile {
  sqlite3_file base;
  PageSink* sink;
};

int SinkClose(sqlite3_file*) {
  return SQLITE_OK;
}
int SinkRead(sqlite3_file* f, void* out, int amount, sqlite3_int64 offset) {
  PageSink* s = reinterpret_cast<SinkFile*>(f)->sink;
  std::memset(out, 0, amount);
  // Only page 1 is ever read back (the header); nothing else is kept.
  if (offset == 0 && !s->page1.empty() && amount <= static_cast<int>(s->page1.size())) {
    std::memcpy(out, s->page1.data(), amount);
    return SQLITE_OK;
  }
  return SQLITE_IOERR_SHORT_READ;
}
int SinkWrite(sqlite3_file* f, const void* data, int amount, sqlite3_int64 offset) {
  return reinterpret_cast<SinkFile*>(f)->sink->Write(data, amount, offset);
}
int SinkTruncate(sqlite3_file*, sqlite3_int64) {
  return SQLITE_OK;
}
int SinkSync(sqlite3_file*, int) {
  return SQLITE_OK;
}
int SinkFileSize(sqlite3_file* f, sqlite3_int64* size) {
  PageSink* s = reinterpret_cast<SinkFile*>(f)->sink;
  const uint64_t pages = s->next_page > 2 ? s->next_page - 1 : (s->page1.empty() ? 0 : 1);
  *size = static_cast<sqlite3_int64>(pages * s->page_size);
  return SQLITE_OK;
}
int SinkLock(sqlite3_file*, int) {
  return SQLITE_OK;
}
int SinkUnlock(sqlite3_file*, int) {
  return SQLITE_OK;
}
int SinkCheckReservedLock(sqlite3_file*, int* out) {
  *out = 0;
  return SQLITE_OK;
}
int SinkFileControl(sqlite3_file*, int, void*) {
  return SQLITE_NOTFOUND;
}
int SinkSectorSize(sqlite3_file*) {
  return 4096;
}
int SinkDeviceCharacteristics(sqlite3_file*) {
  return 0;
}

const sqlite3_io_methods kSinkMethods = {1,  // iVersion: no shared memory, no mmap
                                         SinkClose,
                                         SinkRead,
                                         SinkWrite,
                                         SinkTruncate,
                                         SinkSync,
                                         SinkFileSize,
                                         SinkLock,
                                         SinkUnlock,
                                         SinkCheckReservedLock,
                                         SinkFileControl,
                                         SinkSectorSize,
                                         SinkDeviceCharacteristics,
                                         nullptr,
                                         nullptr,
                                         nullptr,
                                         nullptr,
                                         nullptr,
                                         nullptr};

sqlite3_vfs* DefaultVfs() {
  return sqlite3_vfs_find(nullptr);
}

int SinkOpen(sqlite3_vfs*, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  file->pMethods = nullptr;
  if (!(flags & SQLITE_OPEN_MAIN_DB) || name == nullptr) return SQLITE_CANTOPEN;
  const char* ptr = sqlite3_uri_parameter(name, "sink");
  void* sink = nullptr;
  if (ptr == nullptr || std::sscanf(ptr, "%p", &sink) != 1 || sink == nullptr) return SQLITE_CANTOPEN;
  auto* f = reinterpret_cast<SinkFile*>(file);
  f->sink = static_cast<PageSink*>(sink);
  f->base.pMethods = &kSinkMethods;
  if (out_flags) *out_flags = flags;
  return SQLITE_OK;
}
int SinkDelete(sqlite3_vfs*, const char*, int) {
  return SQLITE_OK;
}
int SinkAccess(sqlite3_vfs*, const char*, int, int* out) {
  *out = 0;  // no journal, no WAL: there is nothing beside the sink
  return SQLITE_OK;
}
int SinkFullPathname(sqlite3_vfs*, const char* name, int n, char* out) {
  std::snprintf(out, n, "%s", name);
  return SQLITE_OK;
}
int SinkRandomness(sqlite3_vfs*, int n, char* out) {
  return DefaultVfs()->xRandomness(DefaultVfs(), n, out);
}
int SinkSleep(sqlite3_vfs*, int us) {
  return DefaultVfs()->xSleep(DefaultVfs(), us);
}
int SinkCurrentTime(sqlite3_vfs*, double* t) {
  return DefaultVfs()->xCurrentTime(DefaultVfs(), t);
}
int SinkGetLastError(sqlite3_vfs*, int, char*) {
  return 0;
}

void RegisterSinkVfs() {
  static std::once_flag once;
  std::call_once(once, [] {
    static sqlite3_vfs vfs = {};
    vfs.iVersion = 1;
    vfs.szOsFile = sizeof(SinkFile);
    vfs.mxPathname = 512;
    vfs.zName = kSinkVfsName;
    vfs.xOpen = SinkOpen;
    vfs.xDelete = SinkDelete;
    vfs.xAccess = SinkAccess;
    vfs.xFullPathname = SinkFullPathname;
    vfs.xRandomness = SinkRandomness;
    vfs.xSleep = SinkSleep;
    vfs.xCurrentTime = SinkCurrentTime;
    vfs.xGetLastError = SinkGetLastError;
    sqlite3_vfs_register(&vfs, /*makeDflt=*/0);
  });
}

Status SqliteError(sqlite3* db, int rc, const std::string& path, const std::string& what) {
  const char* msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Locked(path, "database is locked by another process (" + what + ": " + msg + ")");
    case SQLITE_NOTADB:
      return Status::Corruption(path, "not a readable SQLite database (corrupt or encrypted): " + std::string(msg));
    case SQLITE_CORRUPT:
      return Status::Corruption(path, "SQLite reports the database is corrupt (" + what + "): " + msg);
    case SQLITE_CANTOPEN:
    case SQLITE_PERM: return Status::IOError(path, "cannot open the database (" + what + "): " + msg);
    default: return Status::IOError(path, what + ": " + msg);
  }
}

// Reads `n` bytes at `offset` of `db`'s main database file through SQLite's
// own file handle (opening and closing another descriptor on the file would
// drop this process's POSIX locks on it). A SQLite result code;
// SQLITE_NOTFOUND when the connection has no file handle.
int ReadMainFile(sqlite3* db, void* out, int n, sqlite3_int64 offset) {
  sqlite3_file* fp = nullptr;
  if (sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &fp) != SQLITE_OK || !fp || !fp->pMethods)
    return SQLITE_NOTFOUND;
  return fp->pMethods->xRead(fp, out, n, offset);
}

// WAL mode: the WAL-index header (https://sqlite.org/walformat.html), read
// through the connection's own mapping of the -shm file, never a descriptor
// of ours (closing one would drop this process's POSIX locks on the file,
// read marks included). It is two copies of kWalIndexHeaderSize bytes; a
// committing writer writes the second copy, then the first, and this reads
// the first, then the second, as SQLite's readers do, so equal copies are a
// consistent read. Every commit changes it (iChange, mxFrame), and so does
// every restart of the WAL (its salts). Empty when it cannot be read
// consistently. REQUIRES: `db` is in WAL mode (it has mapped the -shm).
std::string CurrentWalIndexHeader(sqlite3* db) {
  sqlite3_file* fp = nullptr;
  if (sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &fp) != SQLITE_OK || !fp || !fp->pMethods ||
      fp->pMethods->iVersion < 2 || !fp->pMethods->xShmMap || !fp->pMethods->xShmBarrier)
    return {};
  volatile void* region = nullptr;
  if (fp->pMethods->xShmMap(fp, 0, 32 * 1024, 0, &region) != SQLITE_OK || region == nullptr) return {};
  const volatile uint8_t* h = static_cast<const volatile uint8_t*>(region);
  char first[kWalIndexHeaderSize], second[kWalIndexHeaderSize];
  for (size_t i = 0; i < kWalIndexHeaderSize; i++) first[i] = static_cast<char>(h[i]);
  fp->pMethods->xShmBarrier(fp);
  for (size_t i = 0; i < kWalIndexHeaderSize; i++) second[i] = static_cast<char>(h[kWalIndexHeaderSize + i]);
  if (std::memcmp(first, second, sizeof(first)) != 0 || first[12] != 1) return {};  // [12]: isInit
  return std::string(first, sizeof(first));
}

using Clock = std::chrono::steady_clock;

}  // namespace

bool LooksLikeSqlite(ByteView header) {
  return header.size() >= 16 && std::memcmp(header.data(), kSqliteMagic, 16) == 0;
}

// Busy handler: polls every 1 ms until the deadline. SQLite's default
// handler backs off to 100 ms sleeps; in rollback-journal mode a writer
// committing in a tight loop holds PENDING/EXCLUSIVE most of the time, and
// 100 ms probes can miss every short gap between its transactions until the
// timeout expires (seen under ASan). Short probes find those gaps.
struct BusyWait {
  Clock::time_point deadline;
};

int PollingBusyHandler(void* arg, int /*attempt*/) {
  const auto* wait = static_cast<const BusyWait*>(arg);
  if (Clock::now() >= wait->deadline) return 0;
  sqlite3_sleep(1);
  return 1;
}

struct SqliteSource::Impl {
  std::string path;
  sqlite3* db = nullptr;
  BusyWait busy;
  bool skip_check = false;
  bool in_txn = false;
  Clock::time_point began;
  uint8_t header[100] = {};
  bool have_header = false;
  uint32_t schema_version = 0;
  // Rollback mode: a second read-only connection holding its own SHARED
  // lock on the same committed state, so quick_check can run on another
  // thread while the pages are streamed.
  sqlite3* check_db = nullptr;
  BusyWait check_busy;
  // The quick_check started by StartQuickCheck(): the thread writes only
  // check_status and check_result, read after join().
  std::thread checker;
  bool check_done = false;
  Status check_status;
  std::string check_result;
  // The split check (see StartQuickCheck): a third connection in the same
  // state, the tables both checkers take from, the roots for the audit, and
  // the audit fed by Stream. The checker threads write only split_failure
  // (under split_mu) and take tables through next_table.
  bool split = false;
  sqlite3* check_db2 = nullptr;
  BusyWait check_busy2;
  std::thread checker2;
  std::vector<std::string> tables;
  std::atomic<size_t> next_table{0};
  std::mutex split_mu;
  std::string split_failure;
  std::vector<uint32_t> roots;
  std::optional<SqlitePageAudit> audit;
  // WAL mode: the WAL-index header our read transaction began at (see
  // PinWalState), "" when it is not known; once Stream has read the files,
  // the frames it read pages from (for the audit's second reading).
  std::string wal_index;
  WalIndexHeader wal_header;
  std::vector<WalPageFrame> wal_frames;
  sqlite3_file* wal_file = nullptr;
  Bytes frame_buf;
  ~Impl() {
    if (checker.joinable()) checker.join();
    if (checker2.joinable()) checker2.join();
    if (check_db2) sqlite3_close_v2(check_db2);
    if (check_db) sqlite3_close_v2(check_db);
    if (db) sqlite3_close_v2(db);
  }
};

namespace {

std::atomic<uint64_t> g_split_check_min_pages{16384};  // 64 MiB of 4 KiB pages

}  // namespace

uint64_t SqliteSource::SplitCheckMinPages() {
  return g_split_check_min_pages.load();
}
void SqliteSource::SetSplitCheckMinPages(uint64_t pages) {
  g_split_check_min_pages.store(pages);
}

Result<std::unique_ptr<SqliteSource>> SqliteSource::Open(const std::string& path, int busy_timeout_ms,
                                                         SqliteCheck check) {
  RegisterSinkVfs();
  std::unique_ptr<SqliteSource> src(new SqliteSource());
  src->impl_ = std::make_unique<Impl>();
  Impl& m = *src->impl_;
  m.path = path;
  // Read-only: it can never checkpoint, roll a journal back, or delete -wal.
  int rc = sqlite3_open_v2(path.c_str(), &m.db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) return SqliteError(m.db, rc, path, "open");
  m.busy.deadline = Clock::now() + std::chrono::milliseconds(busy_timeout_ms);
  sqlite3_busy_handler(m.db, PollingBusyHandler, &m.busy);
  sqlite3_extended_result_codes(m.db, 1);
  m.began = Clock::now();
  QM_RETURN_IF_ERROR(src->BeginAndReadState());
  m.skip_check = check == SqliteCheck::kSkip;
  if (src->info_.wal) {
    QM_RETURN_IF_ERROR(src->PinWalState());
  } else if (!m.skip_check && m.have_header) {
    src->OpenCheckConnection();
  }
  return src;
}

// Begins the read transaction. Its first read (below) starts it: from there
// on the connection sees one committed state, and this records what it is.
Status SqliteSource::BeginAndReadState(bool begin) {
  Impl& m = *impl_;
  const std::string& path = m.path;
  if (begin) {
    char* err = nullptr;
    const int rc = sqlite3_exec(m.db, "BEGIN", nullptr, nullptr, &err);
    sqlite3_free(err);
    if (rc != SQLITE_OK) return SqliteError(m.db, rc, path, "begin");
    m.in_txn = true;
  }
  auto int_pragma = [&](const char* sql, int64_t* out) -> Status {
    sqlite3_stmt* st = nullptr;
    int r = sqlite3_prepare_v2(m.db, sql, -1, &st, nullptr);
    if (r == SQLITE_OK) r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
      *out = sqlite3_column_int64(st, 0);
      r = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return r == SQLITE_OK ? Status::OK() : SqliteError(m.db, r, path, sql);
  };
  int64_t schema = 0, page_size = 0, page_count = 0, data_version = 0;
  QM_RETURN_IF_ERROR(int_pragma("SELECT count(*) FROM sqlite_master", &schema));
  QM_RETURN_IF_ERROR(int_pragma("PRAGMA page_size", &page_size));
  QM_RETURN_IF_ERROR(int_pragma("PRAGMA page_count", &page_count));
  QM_RETURN_IF_ERROR(int_pragma("PRAGMA data_version", &data_version));
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(m.db, "PRAGMA journal_mode", -1, &st, nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW) {
    const unsigned char* mode = sqlite3_column_text(st, 0);
    info_.wal = mode != nullptr && std::strcmp(reinterpret_cast<const char*>(mode), "wal") == 0;
  }
  sqlite3_finalize(st);
  // The source's header as SQLite's own VFS reads it, inside the read
  // transaction: its change counter is put back into the copy's page 1.
  m.have_header = ReadMainFile(m.db, m.header, sizeof(m.header), 0) == SQLITE_OK;
  int64_t schema_version = 0;
  QM_RETURN_IF_ERROR(int_pragma("PRAGMA schema_version", &schema_version));
  m.schema_version = static_cast<uint32_t>(schema_version);
  info_.page_size = static_cast<uint32_t>(page_size);
  info_.page_count = static_cast<uint64_t>(page_count);
  info_.data_version = data_version;
  return Status::OK();
}

SqliteSource::~SqliteSource() {
  End();
}

// Our first connection's SHARED lock keeps every writer from committing, so
// a second read transaction begun now sees the same state, unless a writer
// already holds PENDING (waiting for our lock to go), which makes the new
// SHARED request wait: hence a short deadline, and on any failure quick_check
// simply runs on the first connection instead. The file change counter is
// compared as a belt-and-braces check of "same state".
namespace {

// A read-only connection whose read transaction sees the same committed state
// as the source's (see above), or nullptr. `header` null: no change counter
// to compare (WAL mode, where the caller proves the state otherwise).
// A read-only connection to `path`, no transaction begun, or nullptr.
sqlite3* OpenReader(const std::string& path, BusyWait* busy) {
  sqlite3* c = nullptr;
  if (sqlite3_open_v2(path.c_str(), &c, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    sqlite3_close_v2(c);
    return nullptr;
  }
  busy->deadline = Clock::now() + std::chrono::milliseconds(200);
  sqlite3_busy_handler(c, PollingBusyHandler, busy);
  return c;
}

// Whether `c`'s read transaction (begun by `begin`) sees `page_count` pages.
bool HasPageCount(sqlite3* c, uint64_t page_count, bool begin) {
  sqlite3_stmt* st = nullptr;
  const bool ok = (!begin || sqlite3_exec(c, "BEGIN", nullptr, nullptr, nullptr) == SQLITE_OK) &&
                  sqlite3_prepare_v2(c, "PRAGMA page_count", -1, &st, nullptr) == SQLITE_OK &&
                  sqlite3_step(st) == SQLITE_ROW && static_cast<uint64_t>(sqlite3_column_int64(st, 0)) == page_count;
  sqlite3_finalize(st);
  return ok;
}

sqlite3* OpenSameState(const std::string& path, uint64_t page_count, const uint8_t* header, BusyWait* busy) {
  sqlite3* c = OpenReader(path, busy);
  if (c == nullptr) return nullptr;
  bool ok = HasPageCount(c, page_count, /*begin=*/true);
  uint8_t own[100];
  ok = ok && (header == nullptr ||
              (ReadMainFile(c, own, sizeof(own), 0) == SQLITE_OK && std::memcmp(own + 24, header + 24, 4) == 0));
  if (!ok) {
    sqlite3_close_v2(c);
    return nullptr;
  }
  return c;
}

}  // namespace

void SqliteSource::OpenCheckConnection() {
  Impl& m = *impl_;
  m.check_db = OpenSameState(m.path, info_.page_count, m.header, &m.check_busy);
}

namespace {
std::function<void()> g_between_begins_hook;  // tests only
std::atomic<bool> g_read_wal_directly{true};  // tests only
}  // namespace

void SqliteSource::SetReadWalDirectlyForTest(bool enabled) {
  g_read_wal_directly.store(enabled);
}

void SqliteSource::SetBetweenBeginsHookForTest(std::function<void()> hook) {
  g_between_begins_hook = std::move(hook);
}

// WAL mode: readers never block writers, so nothing says which state a
// read transaction began at. Our read transaction is begun again between two
// readings of the WAL-index header (and, unless the check is skipped, the
// check connection's before the second reading): if both readings are
// equal, no commit and no WAL restart came in between, so our transaction
// (and the check connection's) sees the state that header describes, which
// is then known (wal_index) and lets Stream read the files directly. A
// writer committing in between makes them differ; after a few tries Stream
// uses the online backup API and the check runs on our own connection after
// the copy, as when the -shm cannot be read. Only an error beginning our own
// transaction again is Open's error.
Status SqliteSource::PinWalState() {
  Impl& m = *impl_;
  // The check connections are opened first: only beginning their read
  // transactions has to fall between the two readings. A wide window (it
  // used to open them there) is hit by a writer committing as fast as it
  // can on every try: under ASan, on all 20 backups of the live-writer test.
  sqlite3* c = nullptr;
  sqlite3* c2 = nullptr;  // the split check's third connection (PrepareSplitCheck)
  if (!m.skip_check) {
    c = OpenReader(m.path, &m.check_busy);
    if (c != nullptr && info_.page_count >= SplitCheckMinPages()) c2 = OpenReader(m.path, &m.check_busy2);
  }
  auto begin = [](sqlite3* db) { return sqlite3_exec(db, "BEGIN; PRAGMA page_count;", nullptr, nullptr, nullptr); };
  auto end = [](sqlite3* db) {
    if (db != nullptr) sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  };
  bool pinned = false;
  for (int attempt = 0; attempt < kWalPinTries && !pinned; attempt++) {
    const std::string before = CurrentWalIndexHeader(m.db);
    if (before.empty()) break;
    end(c);
    end(c2);
    end(m.db);
    m.in_txn = false;
    const int rc = begin(m.db);
    if (rc != SQLITE_OK) return SqliteError(m.db, rc, m.path, "begin");
    m.in_txn = true;
    if (g_between_begins_hook) g_between_begins_hook();
    if (c != nullptr && begin(c) != SQLITE_OK) end(c);
    if (c2 != nullptr && begin(c2) != SQLITE_OK) end(c2);
    if (CurrentWalIndexHeader(m.db) == before) {
      pinned = true;
      m.wal_index = before;
    }
  }
  QM_RETURN_IF_ERROR(BeginAndReadState(/*begin=*/false));  // the state of the last try's transaction
  if (!info_.wal) pinned = false;  // no longer in WAL mode: read directly, checked after the copy
  if (!pinned) m.wal_index.clear();
  auto keep = [&](sqlite3* db) -> sqlite3* {
    if (db == nullptr) return nullptr;
    if (pinned && HasPageCount(db, info_.page_count, /*begin=*/false)) return db;
    sqlite3_close_v2(db);  // ends its read transaction
    return nullptr;
  };
  m.check_db = keep(c);
  sqlite3* third = keep(c2);
  if (m.check_db == nullptr && third != nullptr) {
    sqlite3_close_v2(third);
    third = nullptr;
  }
  m.check_db2 = third;
  return Status::OK();
}

bool SqliteSource::CanCheckConcurrently() const {
  return impl_->check_db != nullptr;
}

namespace {

// Runs `sql` (a quick_check pragma) on `db`: "ok", or the problems it lists
// joined by "; ".
Status RunQuickCheckSql(sqlite3* db, const char* sql, const std::string& path, std::string* result) {
  sqlite3_stmt* st = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &st, nullptr);
  result->clear();
  while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    const unsigned char* t = sqlite3_column_text(st, 0);
    if (!result->empty()) *result += "; ";
    *result += t ? reinterpret_cast<const char*>(t) : "";
    rc = SQLITE_OK;
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE && rc != SQLITE_OK) return SqliteError(db, rc, path, "quick_check");
  if (*result != "ok") return Status::Corruption(path, "PRAGMA quick_check failed: " + *result);
  return Status::OK();
}

// The full PRAGMA quick_check, at most five problems.
Status RunQuickCheck(sqlite3* db, const std::string& path, std::string* result) {
  return RunQuickCheckSql(db, "PRAGMA quick_check(5)", path, result);
}

}  // namespace

// On the main thread, before Stream: the third connection, the audit, and
// the tables and roots read from the schema through the first connection.
bool SqliteSource::PrepareSplitCheck() {
  Impl& m = *impl_;
  // WAL mode: the third connection was opened by PinWalState, in the same
  // state as the others (proven by the WAL-index header; WAL commits do not
  // bump the change counter). Without it the check is whole.
  if (!m.have_header || info_.page_count < SplitCheckMinPages()) return false;
  if (info_.wal && m.check_db2 == nullptr) return false;
  auto audit = SqlitePageAudit::Start(ByteView(m.header, sizeof(m.header)), info_.page_count);
  if (!audit.ok()) return false;  // auto-vacuum (pointer maps), 2^24 pages or more: checked whole
  sqlite3_stmt* st = nullptr;
  std::vector<std::string> tables = {"sqlite_schema"};
  std::vector<uint32_t> roots;
  bool ok = sqlite3_prepare_v2(m.db, "SELECT type, name, rootpage FROM sqlite_schema WHERE rootpage > 0", -1, &st,
                               nullptr) == SQLITE_OK;
  int rc = SQLITE_OK;
  while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    const unsigned char* type = sqlite3_column_text(st, 0);
    const unsigned char* name = sqlite3_column_text(st, 1);
    const int64_t root = sqlite3_column_int64(st, 2);
    if (type == nullptr || name == nullptr || root < 1 || static_cast<uint64_t>(root) > info_.page_count) {
      ok = false;
      break;
    }
    roots.push_back(static_cast<uint32_t>(root));
    if (std::strcmp(reinterpret_cast<const char*>(type), "table") == 0)
      tables.emplace_back(reinterpret_cast<const char*>(name));
  }
  sqlite3_finalize(st);
  if (!ok || rc != SQLITE_DONE) return false;
  if (!info_.wal) m.check_db2 = OpenSameState(m.path, info_.page_count, m.header, &m.check_busy2);
  if (m.check_db2 == nullptr) return false;
  m.audit.emplace(std::move(audit).value());
  m.tables = std::move(tables);
  m.roots = std::move(roots);
  return true;
}

void SqliteSource::StartQuickCheck() {
  Impl& m = *impl_;
  if (m.check_db == nullptr || m.checker.joinable() || m.check_done) return;
  if (PrepareSplitCheck()) {
    m.split = true;
    // Each checker takes the next table until none is left or one fails.
    auto work = [&m](sqlite3* c) {
      for (size_t i; (i = m.next_table.fetch_add(1)) < m.tables.size();) {
        char* sql = sqlite3_mprintf("PRAGMA quick_check(%Q)", m.tables[i].c_str());
        std::string result;
        Status s = RunQuickCheckSql(c, sql, m.path, &result);
        sqlite3_free(sql);
        if (!s.ok()) {
          std::lock_guard<std::mutex> l(m.split_mu);
          if (m.split_failure.empty()) m.split_failure = m.tables[i] + ": " + s.ToString();
          m.next_table.store(m.tables.size());
          return;
        }
      }
    };
    m.checker = std::thread(work, m.check_db);
    m.checker2 = std::thread(work, m.check_db2);
    return;
  }
  m.checker = std::thread([&m] { m.check_status = RunQuickCheck(m.check_db, m.path, &m.check_result); });
}

void SqliteSource::JoinCheckThreads() {
  Impl& m = *impl_;
  if (!m.checker.joinable() && !m.checker2.joinable()) return;
  if (m.checker.joinable()) m.checker.join();
  if (m.checker2.joinable()) m.checker2.join();
  if (m.split) return;  // done only once SplitCheckVerdict has decided
  m.check_done = true;
  info_.quick_check = m.check_result;
}

// Every per-table check passed and every page is accounted for: that is the
// full check's "ok". Otherwise the full check decides, in its own words.
void SqliteSource::SplitCheckVerdict() {
  Impl& m = *impl_;
  Status accounted = Status::Corruption(m.path, "a per-table check failed");
  if (!m.audit) {
    accounted = Status::Corruption(m.path, "no page accounting (the stream's page 1 did not parse)");
  } else if (m.split_failure.empty()) {
    const uint32_t ps = info_.page_size;
    accounted = m.audit->Finish(m.roots, [&](uint32_t page_no, Bytes* out) -> Status {
      out->resize(ps);
      // As Stream read it: the WAL state's page, or the database file's.
      auto f = std::lower_bound(m.wal_frames.begin(), m.wal_frames.end(), page_no,
                                [](const WalPageFrame& e, uint32_t p) { return e.page < p; });
      if (f != m.wal_frames.end() && f->page == page_no) return ReadStatePage(*f, out->data(), nullptr);
      if (ReadMainFile(m.db, out->data(), static_cast<int>(ps), static_cast<sqlite3_int64>(page_no - 1) * ps) !=
          SQLITE_OK)
        return Status::Corruption(m.path, "cannot read page " + std::to_string(page_no) + " again");
      return Status::OK();
    });
  }
  m.audit.reset();
  m.check_done = true;
  if (accounted.ok()) {
    m.check_result = "ok";
    m.check_status = Status::OK();
    info_.split_check = true;
  } else {
    m.check_status = RunQuickCheck(m.check_db, m.path, &m.check_result);
  }
  info_.quick_check = m.check_result;
}

Status SqliteSource::WaitQuickCheck() {
  Impl& m = *impl_;
  if (m.skip_check) return Status::OK();
  if (m.check_done) return m.check_status;
  if (!m.in_txn) return Status::InvalidArgument(m.path, "read transaction already ended");
  if (m.checker.joinable() || m.checker2.joinable()) {
    JoinCheckThreads();
    if (m.split) SplitCheckVerdict();
    return m.check_status;
  }
  m.check_status = RunQuickCheck(m.check_db ? m.check_db : m.db, m.path, &m.check_result);
  m.check_done = true;
  info_.quick_check = m.check_result;
  return m.check_status;
}

// Reads the transaction's pages straight from the files, through SQLite's
// own handles (opening and closing another descriptor on the database file
// would drop the process's POSIX locks), 1 MiB of the database file per
// read: a few hundred syscalls per GiB instead of one per page plus the
// backup API's copying (1 GiB: ~0.2 s against 1.5 s).
//
// Rollback-journal mode (`frames` null): our read transaction holds a SHARED
// lock, and no writer can take the EXCLUSIVE lock it needs to write the
// database file while any SHARED lock is held. So the file's first
// page_count pages are exactly the committed state the transaction sees.
//
// WAL mode (see StreamWal): the pages in `frames` are read from the WAL
// state (ReadStatePage), the others from the database file, and a page past
// the end of the database file must be in `frames`.
Status SqliteSource::StreamFiles(const PageFn& fn, const std::vector<WalPageFrame>* frames) {
  Impl& m = *impl_;
  sqlite3_file* fp = nullptr;
  if (sqlite3_file_control(m.db, "main", SQLITE_FCNTL_FILE_POINTER, &fp) != SQLITE_OK || !fp || !fp->pMethods)
    return Status::NotSupported(m.path, "no file handle");
  const uint32_t ps = info_.page_size;
  uint64_t file_pages = info_.page_count;
  if (frames != nullptr) {
    sqlite3_int64 size = 0;
    if (fp->pMethods->xFileSize(fp, &size) != SQLITE_OK || size < 0)
      return Status::IOError(m.path, "cannot read the database file's size");
    file_pages = static_cast<uint64_t>(size) / ps;
  }
  const uint64_t per_read = std::max<uint64_t>(1, (1u << 20) / ps);
  Bytes buf(static_cast<size_t>(per_read * ps));
  size_t next_frame = 0;
  for (uint64_t first = 1; first <= info_.page_count; first += per_read) {
    const uint64_t n = std::min<uint64_t>(per_read, info_.page_count - first + 1);
    const uint64_t in_file = file_pages >= first ? std::min<uint64_t>(n, file_pages - first + 1) : 0;
    if (in_file > 0) {
      const int rc = fp->pMethods->xRead(fp, buf.data(), static_cast<int>(in_file * ps),
                                         static_cast<sqlite3_int64>((first - 1) * ps));
      if (rc != SQLITE_OK)
        return Status::Corruption(m.path, "the file is shorter than its " + std::to_string(info_.page_count) +
                                              " pages, or unreadable (SQLite I/O code " + std::to_string(rc) + ")");
    }
    for (uint64_t i = 0; i < n; i++) {
      const uint64_t page_no = first + i;
      uint8_t* p = buf.data() + i * ps;
      if (frames != nullptr && next_frame < frames->size() && (*frames)[next_frame].page == page_no) {
        bool from_frame = false;
        QM_RETURN_IF_ERROR(ReadStatePage((*frames)[next_frame], p, &from_frame));
        if (from_frame) info_.wal_frames_read++;
        next_frame++;
      } else if (i >= in_file) {
        return Status::Corruption(
            m.path, "page " + std::to_string(page_no) + " is past the end of the database file and in no WAL frame");
      }
      const ByteView page(p, ps);
      if (page_no == 1 && m.audit && std::memcmp(p, m.header, sizeof(m.header)) != 0) {
        // WAL mode: the state's page 1 is in the WAL, and its header (size,
        // freelist) is what the accounting must start from.
        auto audit = SqlitePageAudit::Start(ByteView(p, sizeof(m.header)), info_.page_count);
        if (audit.ok()) {
          m.audit.emplace(std::move(audit).value());
        } else {
          m.audit.reset();  // the full check decides
        }
      }
      if (m.audit) m.audit->AddPage(page_no, page);  // the split check's page accounting
      QM_RETURN_IF_ERROR(fn(page_no, page));
    }
  }
  info_.direct_read = true;
  return Status::OK();
}

namespace {
// A WAL of more frames than this (4 GiB of 4 KiB pages) goes through the
// backup API: the frame map costs 16 bytes per frame.
constexpr uint32_t kMaxWalFramesRead = 1u << 20;
}  // namespace

// WAL mode, the state pinned (PinWalState): the WAL-index header H our
// transaction began at names its last frame M, and the state is each page's
// last frame <= M, or the database file for a page with no frame there.
// What SQLite guarantees while our read mark is held (wal.c):
// - A checkpoint writes a page into the database file only from the page's
//   last frame, and only when that frame is <= every reader's mark, so <= M:
//   a page with no frame <= M is never written, and the file is never
//   truncated below the state. (It may also skip a page whose last frame is
//   past the oldest mark while still advancing nBackfill past the page's
//   earlier frames: nBackfill == M does not mean the file holds the state.)
// - Frames are rewritten only by a WAL restart, which needs every frame
//   copied and no reader on a mark other than 0. A reader takes mark 0 only
//   when every frame is already in the file, and mark 0 holds off every
//   checkpoint. So frames 1..M stay as they are, or, if a restart rewrites
//   them, the file holds the whole state and cannot change.
// Hence: every frame 1..M is checked against H first (core/sqlite_wal.h);
// each page with a frame is read from it, and the frame checked again as
// read (WalFrameMatches); a frame that no longer checks was rewritten by a
// restart, and the page is read from the file instead (ReadStatePage).
// Anything unexpected before the first page (no WAL handle, frames that do
// not check, more than kMaxWalFramesRead frames) leaves *done false, and
// Stream uses the backup API.
Status SqliteSource::StreamWal(const PageFn& fn, bool* done) {
  Impl& m = *impl_;
  *done = false;
  if (m.wal_index.empty() || !g_read_wal_directly.load()) return Status::OK();
  auto index = DecodeWalIndexHeader(AsBytes(m.wal_index));
  if (!index.ok() || (index->max_frame > 0 && index->page_size != info_.page_size)) return Status::OK();
  std::vector<WalPageFrame> frames;
  sqlite3_file* wal = nullptr;
  if (index->max_frame > 0) {
    if (index->page_count != info_.page_count || index->max_frame > kMaxWalFramesRead) return Status::OK();
    if (sqlite3_file_control(m.db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal) != SQLITE_OK || !wal || !wal->pMethods)
      return Status::OK();
    Bytes buf(kWalFrameHeaderSize + info_.page_size);
    if (wal->pMethods->xRead(wal, buf.data(), kWalHeaderSize, 0) != SQLITE_OK) return Status::OK();
    auto scan = WalFrameScan::Start(*index, ByteView(buf.data(), kWalHeaderSize));
    if (!scan.ok()) return Status::OK();
    for (uint32_t f = 1; f <= index->max_frame; f++) {
      if (wal->pMethods->xRead(wal, buf.data(), static_cast<int>(buf.size()),
                               static_cast<sqlite3_int64>(WalFrameOffset(f, info_.page_size))) != SQLITE_OK ||
          !scan->Add(buf).ok())
        return Status::OK();
    }
    auto map = scan->Finish();
    if (!map.ok()) return Status::OK();
    frames = std::move(map).value();
  }
  *done = true;
  m.wal_header = *index;
  m.wal_frames = std::move(frames);
  m.wal_file = wal;
  return StreamFiles(fn, &m.wal_frames);
}

// Page `e.page` of the pinned WAL state (see StreamWal), into `out`;
// *from_frame (if given) says whether it came from its frame.
Status SqliteSource::ReadStatePage(const WalPageFrame& e, uint8_t* out, bool* from_frame) {
  Impl& m = *impl_;
  const uint32_t ps = info_.page_size;
  if (from_frame) *from_frame = false;
  m.frame_buf.resize(kWalFrameHeaderSize + ps);
  const int rc = m.wal_file->pMethods->xRead(m.wal_file, m.frame_buf.data(), static_cast<int>(m.frame_buf.size()),
                                             static_cast<sqlite3_int64>(WalFrameOffset(e.frame, ps)));
  if (rc == SQLITE_OK && WalFrameMatches(m.wal_header, e, m.frame_buf)) {
    std::memcpy(out, m.frame_buf.data() + kWalFrameHeaderSize, ps);
    if (from_frame) *from_frame = true;
    return Status::OK();
  }
  // An I/O error says nothing about a restart: the copy fails.
  if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ)
    return Status::IOError(
        m.path, "cannot read WAL frame " + std::to_string(e.frame) + " (SQLite I/O code " + std::to_string(rc) + ")");
  // Rewritten (or cut short) by a WAL restart: our read mark is 0 and the
  // file holds the state (see StreamWal).
  info_.wal_restarted = true;
  if (ReadMainFile(m.db, out, static_cast<int>(ps), static_cast<sqlite3_int64>(e.page - 1) * ps) != SQLITE_OK)
    return Status::Corruption(
        m.path, "page " + std::to_string(e.page) + " is neither in its WAL frame nor in the database file");
  return Status::OK();
}

Status SqliteSource::Stream(const PageFn& fn) {
  Impl& m = *impl_;
  if (!m.in_txn) return Status::InvalidArgument(m.path, "read transaction already ended");
  if (!info_.wal) return StreamFiles(fn, nullptr);
  bool done = false;
  QM_RETURN_IF_ERROR(StreamWal(fn, &done));
  if (done) return Status::OK();
  PageSink sink;
  sink.page_size = info_.page_size;
  sink.fn = &fn;
  // The backup API bumps three header counters in the copy (change counter,
  // schema cookie, version-valid-for). Restoring the source's values makes
  // the copy of an unchanged database identical to the last one, so page 1
  // deduplicates, and a quiescent database is reproduced byte for byte.
  if (m.have_header) std::memcpy(sink.change_counter, m.header + 24, 4);
  for (int i = 0; i < 4; i++) sink.schema_cookie[i] = static_cast<uint8_t>(m.schema_version >> (24 - 8 * i));
  char uri[128];
  std::snprintf(uri, sizeof(uri), "file:qmsnap-sink?sink=%p", static_cast<void*>(&sink));
  sqlite3* dst = nullptr;
  int rc = sqlite3_open_v2(uri, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI, kSinkVfsName);
  if (rc != SQLITE_OK) {
    Status s = SqliteError(dst, rc, m.path, "open the page sink");
    sqlite3_close_v2(dst);
    return s;
  }
  // No journal (nothing to roll back: the sink is not a file), a small cache
  // (pages flow through, they are not kept), and the source's page size.
  char* err = nullptr;
  std::string setup = "PRAGMA page_size=" + std::to_string(info_.page_size) +
                      "; PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-1024;";
  rc = sqlite3_exec(dst, setup.c_str(), nullptr, nullptr, &err);
  sqlite3_free(err);
  Status result;
  if (rc != SQLITE_OK) {
    result = SqliteError(dst, rc, m.path, "set up the page sink");
  } else {
    sqlite3_backup* b = sqlite3_backup_init(dst, "main", m.db, "main");
    if (b == nullptr) {
      result = SqliteError(dst, sqlite3_errcode(dst), m.path, "start the online backup");
    } else {
      rc = sqlite3_backup_step(b, -1);
      int frc = sqlite3_backup_finish(b);
      if (!sink.status.ok()) {
        result = sink.status;
      } else if (rc != SQLITE_DONE) {
        result = SqliteError(m.db, rc, m.path, "copy pages");
      } else if (frc != SQLITE_OK) {
        result = SqliteError(dst, frc, m.path, "finish the online backup");
      } else if (sink.delivered != info_.page_count || sink.page1.empty()) {
        result = Status::Corruption(m.path, "backup delivered " + std::to_string(sink.delivered) +
                                                " pages, the read transaction has " + std::to_string(info_.page_count));
      }
    }
  }
  sqlite3_close_v2(dst);
  return result;
}

void SqliteSource::End() {
  if (!impl_ || !impl_->in_txn) return;
  JoinCheckThreads();  // their connections close below
  if (impl_->check_db2) {
    sqlite3_exec(impl_->check_db2, "COMMIT", nullptr, nullptr, nullptr);
    sqlite3_close_v2(impl_->check_db2);
    impl_->check_db2 = nullptr;
  }
  if (impl_->check_db) {
    sqlite3_exec(impl_->check_db, "COMMIT", nullptr, nullptr, nullptr);
    sqlite3_close_v2(impl_->check_db);
    impl_->check_db = nullptr;
  }
  sqlite3_exec(impl_->db, "COMMIT", nullptr, nullptr, nullptr);
  impl_->in_txn = false;
  info_.read_hold_ms = std::chrono::duration<double, std::milli>(Clock::now() - impl_->began).count();
  sqlite3_close_v2(impl_->db);
  impl_->db = nullptr;
}

}  // namespace qm
