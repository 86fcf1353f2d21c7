// qm-snap: parse the command line, run one command, map its outcome to an
// exit code. Logging goes to stderr through spdlog; results go to stdout.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "store/io/allocator.h"

namespace qm::cli {

Result<std::unique_ptr<Repository>> CommandContext::OpenRepo(OpenMode mode) {
  return Repository::Open(env, global.repo, mode, [](const std::string& w) { spdlog::warn("{}", w); });
}

std::string HumanBytes(uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

namespace {

void SetUpLogging(int verbosity) {
  auto logger = spdlog::stderr_color_mt("qm-snap");
  logger->set_pattern("qm-snap: %^%l%$: %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(verbosity > 0 ? spdlog::level::debug : verbosity < 0 ? spdlog::level::err : spdlog::level::info);
}

int Main(int argc, char** argv) {
  // Everything qm-snap creates holds secrets (API keys, password hashes):
  // no file it makes is ever readable by others.
  RestrictFileCreationMask();
  // Packs stay open while they are read (Repository::OpenPack).
  RaiseOpenFileLimit();
  // Large transient buffers go back to the system when freed, so peak RSS
  // follows the live heap.
  ReturnLargeBuffersOnFree();

  // Named explicitly so usage lines read "qm-snap backup", not argv[0]'s path.
  CLI::App app{"qm-snap: incremental, deduplicating snapshots of a QuantMesh data directory", "qm-snap"};
  app.set_version_flag("--version", std::string("qm-snap ") + QMSNAP_VERSION);
  app.require_subcommand(1);
  app.fallthrough();
  CommandContext ctx;
  ctx.global.repo = "./backups/store";
  app.add_option("-r,--repo", ctx.global.repo, "Repository path (default ./backups/store)")->envname("QM_SNAP_REPO");
  app.add_flag_function(
      "-v,--verbose", [&](int64_t n) { ctx.global.verbosity += static_cast<int>(n); }, "More log output");
  app.add_flag_function(
      "-q,--quiet", [&](int64_t n) { ctx.global.verbosity -= static_cast<int>(n); }, "Only errors on stderr");

  RegisterInit(app, ctx);
  RegisterBackup(app, ctx);
  RegisterSnapshots(app, ctx);
  RegisterRestore(app, ctx);
  RegisterCheck(app, ctx);
  RegisterExport(app, ctx);
  RegisterVerify(app, ctx);
  RegisterImport(app, ctx);
  RegisterLs(app, ctx);
  RegisterCat(app, ctx);
  RegisterFind(app, ctx);
  RegisterDiff(app, ctx);
  RegisterStats(app, ctx);
  RegisterMount(app, ctx);

  auto* help = app.add_subcommand("help", "Show help for qm-snap or one of its commands");
  std::string help_topic;
  help->add_option("command", help_topic, "Command to describe");
  help->callback([&] {
    ctx.run = [&]() {
      if (help_topic.empty()) {
        std::fputs(app.help().c_str(), stdout);
        return kExitOk;
      }
      for (CLI::App* sub : app.get_subcommands({})) {
        if (sub->get_name() == help_topic) {
          std::fputs(sub->help("qm-snap").c_str(), stdout);
          return kExitOk;
        }
      }
      spdlog::error("unknown command \"{}\"; run `qm-snap help` for the list", help_topic);
      return kExitUsage;
    };
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    SetUpLogging(0);
    spdlog::error("{}; run `qm-snap help` for usage", e.what());
    return kExitUsage;
  }
  SetUpLogging(ctx.global.verbosity);
  if (!ctx.run) return kExitUsage;
  return ctx.run();
}

}  // namespace
}  // namespace qm::cli

int main(int argc, char** argv) {
  return qm::cli::Main(argc, argv);
}
