#include "tests/support/test_util.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>
#include <vector>

namespace qm {

namespace fs = std::filesystem;

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = (base != nullptr && *base != '\0') ? base : "/tmp";
  while (tmpl.size() > 1 && tmpl.back() == '/') tmpl.pop_back();
  tmpl += "/qm-test-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) {
    std::fprintf(stderr, "TempDir: mkdtemp(%s) failed: %s\n", tmpl.c_str(), std::strerror(errno));
    std::abort();
  }
  std::error_code ec;
  fs::path p = fs::canonical(buf.data(), ec);  // tests compare paths; resolve /tmp symlinks once
  path_ = ec ? std::string(buf.data()) : p.string();
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
  if (!ec) return;
  // A test may have left a directory unwritable or unreadable; give the
  // owner full access to everything and try once more.
  for (auto it = fs::recursive_directory_iterator(path_, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) {
      fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
    }
  }
  fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
  fs::remove_all(path_, ec);
}

void WriteStringToFile(const std::string& path, const std::string& content) {
  std::error_code ec;
  const fs::path parent = fs::path(path).parent_path();
  if (!parent.empty()) fs::create_directories(parent, ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  if (!out) ADD_FAILURE() << "cannot write " << path;
}

std::string ReadFileToString(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot open " << path;
    return "";
  }
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) ADD_FAILURE() << "cannot read " << path;
  return content;
}

std::string RandomBytes(size_t n, uint64_t seed) {
  std::string out(n, '\0');
  uint64_t state = seed;
  for (size_t i = 0; i < n; i += 8) {
    // SplitMix64 (Steele, Lea, Flood 2014).
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    for (size_t j = 0; j < 8 && i + j < n; ++j) out[i + j] = static_cast<char>(z >> (8 * j));
  }
  return out;
}

std::map<std::string, std::string> FilesUnder(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file())
      out[std::filesystem::relative(e.path(), dir).string()] = ReadFileToString(e.path().string());
  }
  return out;
}

void MakeSqliteDatabase(const std::string& path, int rows, uint64_t seed) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    ADD_FAILURE() << "cannot create " << path;
    sqlite3_close(db);
    return;
  }
  const std::string sql = "CREATE TABLE IF NOT EXISTS trades(id INTEGER PRIMARY KEY, v TEXT); BEGIN;";
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) ADD_FAILURE() << sqlite3_errmsg(db);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO trades(v) VALUES (?)", -1, &st, nullptr);
  std::string data = RandomBytes(static_cast<size_t>(rows) * 24, seed);
  static const char kHex[] = "0123456789abcdef";
  for (int i = 0; i < rows; i++) {
    std::string v;
    for (int k = 0; k < 24; k++) v += kHex[static_cast<uint8_t>(data[i * 24 + k]) & 15];
    sqlite3_bind_text(st, 1, v.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE) ADD_FAILURE() << sqlite3_errmsg(db);
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) ADD_FAILURE() << sqlite3_errmsg(db);
  sqlite3_close(db);
}

void ExecSql(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK)
    ADD_FAILURE() << (err ? err : sqlite3_errmsg(db)) << " in " << sql;
  sqlite3_free(err);
}

std::string QuerySqlite(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << path;
    sqlite3_close(db);
    return "cannot open";
  }
  sqlite3_stmt* st = nullptr;
  std::string out;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK) {
    while (sqlite3_step(st) == SQLITE_ROW) {
      if (!out.empty()) out += "\n";
      const unsigned char* t = sqlite3_column_text(st, 0);
      out += t ? reinterpret_cast<const char*>(t) : "";
    }
  } else {
    out = std::string("error: ") + sqlite3_errmsg(db);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

ShellResult RunShell(const std::string& command) {
  TempDir tmp;
  const std::string cmd = "(" + command + ") >" + tmp.path() + "/o 2>" + tmp.path() + "/e";
  const int status = std::system(cmd.c_str());
  ShellResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = ReadFileToString(tmp.path() + "/o");
  r.err = ReadFileToString(tmp.path() + "/e");
  return r;
}

ShellResult Qm(const std::string& args, const std::string& prefix) {
  // The redirection goes before `args`, which may go on into a pipeline.
  return RunShell(prefix + " TZ=UTC " QMSNAP_BINARY " </dev/null " + args);
}

}  // namespace qm
