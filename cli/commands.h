// Command registration. Each cmd_*.cc adds one CLI11 subcommand whose
// callback fills an Options struct, calls one store/ops function and prints
// text or JSON. Commands never open files, RocksDB or SQLite themselves.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>

#include "core/result.h"
#include "store/io/env.h"
#include "store/repo/repository.h"

namespace qm::cli {

struct GlobalOptions {
  std::string repo;   // --repo, QM_SNAP_REPO, or ./backups/store
  int verbosity = 0;  // -v: +1, -q: -1
};

// What a command does once parsing succeeded; returns the exit code.
using CommandRun = std::function<int()>;

struct CommandContext {
  GlobalOptions global;
  CommandRun run;  // set by the chosen subcommand
  Env* env = Env::Default();

  // Opens the repository, logging its warnings.
  Result<std::unique_ptr<Repository>> OpenRepo(OpenMode mode);
};

void RegisterInit(CLI::App& app, CommandContext& ctx);
void RegisterBackup(CLI::App& app, CommandContext& ctx);
void RegisterSnapshots(CLI::App& app, CommandContext& ctx);
void RegisterRestore(CLI::App& app, CommandContext& ctx);
void RegisterCheck(CLI::App& app, CommandContext& ctx);
void RegisterExport(CLI::App& app, CommandContext& ctx);
void RegisterVerify(CLI::App& app, CommandContext& ctx);
void RegisterImport(CLI::App& app, CommandContext& ctx);
void RegisterLs(CLI::App& app, CommandContext& ctx);
void RegisterCat(CLI::App& app, CommandContext& ctx);
void RegisterFind(CLI::App& app, CommandContext& ctx);
void RegisterDiff(CLI::App& app, CommandContext& ctx);
void RegisterStats(CLI::App& app, CommandContext& ctx);
void RegisterMount(CLI::App& app, CommandContext& ctx);

// "12.3 MiB"
std::string HumanBytes(uint64_t n);

}  // namespace qm::cli
