#include <cstdio>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "core/json_writer.h"
#include "store/ops/archive_reader.h"

namespace qm::cli {

void RegisterVerify(CLI::App& app, CommandContext& ctx) {
  struct Args {
    std::string archive;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "verify", "Check an exported archive without a store: checksum file, tar structure, every file, every database");
  cmd->add_option("archive", args->archive, "NAME.tar.gz (or .tar.zst, .tar.xz), with NAME.sha256 beside it")
      ->required();
  cmd->add_flag("--json", args->json, "Print the result as JSON");
  cmd->callback([&ctx, args] {
    ctx.run = [&ctx, args] {
      ArchiveReadOptions opt;
      opt.archive = args->archive;
      auto r = ReadArchive(ctx.env, opt);
      if (!r.ok()) return ReportError(r.status().WithContext("verify failed"));
      if (args->json) {
        JsonWriter j;
        j.BeginObject();
        j.Key("archive").String(args->archive);
        j.Key("ok").Bool(r->ok());
        j.Key("files").Uint(r->files);
        j.Key("databases").Uint(r->databases);
        j.Key("bytes").Uint(r->bytes);
        j.Key("problems").BeginArray();
        for (const std::string& p : r->problems) j.String(p);
        j.EndArray();
        j.EndObject();
        std::printf("%s\n", j.str().c_str());
      }
      if (!r->ok()) return ReportProblems(r->problems, "archive " + args->archive, "");
      if (!args->json)
        std::printf("verified %s: %llu files (%llu databases pass integrity_check), %s, checksum OK\n",
                    args->archive.c_str(), static_cast<unsigned long long>(r->files),
                    static_cast<unsigned long long>(r->databases), HumanBytes(r->bytes).c_str());
      return kExitOk;
    };
  });
}

}  // namespace qm::cli
