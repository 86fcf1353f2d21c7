// chunker_compare BEFORE.db AFTER.db [--page-size N]
//
// Which chunker suits SQLite databases? Chunks BEFORE and AFTER with each
// strategy, and reports for AFTER how many chunks are new (by SHA-256, each
// distinct new chunk counted once, as a repository stores it once), their raw
// and per-chunk zstd -3 sizes, and a flat chunk list's size (36 bytes per
// chunk) as the metadata estimate. The "ideal" is the pages that differ at
// the same index (plus pages past BEFORE's end). Markdown on stdout.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/bytes.h"
#include "core/fastcdc_chunker.h"
#include "core/hash.h"
#include "core/page_chunker.h"
#include "core/zstd_codec.h"

namespace {

using qm::Bytes;
using qm::ByteView;

struct Span {
  size_t off, len;
};
using Chunker = std::function<std::vector<Span>(ByteView)>;

Bytes ReadFile(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path);
    std::exit(1);
  }
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

size_t ZstdSize(qm::ZstdCodec& zstd, ByteView in) {
  Bytes out;
  if (!zstd.Compress(in, &out).ok()) std::abort();
  return out.size();
}

// Page 1 is a chunk by itself; after it, `cut(page, pages_in_chunk, page_no)`
// ends a chunk, and the last page always does (as Archiver::StoreDatabase).
std::vector<Span> ByPages(ByteView db, size_t ps, const std::function<bool(ByteView, uint32_t, uint64_t)>& cut) {
  std::vector<Span> out;
  size_t start = 0;
  uint32_t in_chunk = 0;
  for (size_t off = 0; off < db.size(); off += ps) {
    const uint64_t page_no = off / ps + 1;
    ByteView page = db.subspan(off, std::min(ps, db.size() - off));
    in_chunk++;
    if (page_no == 1 || cut(page, in_chunk, page_no) || off + page.size() == db.size()) {
      out.push_back({start, off + page.size() - start});
      start = off + page.size();
      in_chunk = 0;
    }
  }
  return out;
}

std::vector<Span> ByFastCdc(ByteView db, const qm::FastCdcChunker& cdc) {
  std::vector<Span> out;
  for (size_t off = 0; off < db.size();) {
    const size_t len = cdc.NextCut(db.subspan(off), true);
    out.push_back({off, len});
    off += len;
  }
  return out;
}

constexpr double kMiB = 1024.0 * 1024.0;

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 && !(argc == 5 && std::strcmp(argv[3], "--page-size") == 0)) {
    std::fprintf(stderr, "usage: chunker_compare BEFORE.db AFTER.db [--page-size N]\n");
    return 2;
  }
  const Bytes before = ReadFile(argv[1]), after = ReadFile(argv[2]);
  size_t ps = argc == 5 ? std::strtoul(argv[4], nullptr, 10) : 0;
  if (ps == 0 && before.size() >= 18) {
    ps = (size_t{before[16]} << 8) | before[17];
    if (ps == 1) ps = 65536;
  }
  if (ps < 512 || ps > 65536 || (ps & (ps - 1)) != 0) {
    std::fprintf(stderr, "bad page size %zu\n", ps);
    return 2;
  }
  qm::ZstdCodec zstd(3);

  // The ideal: AFTER's pages that differ from BEFORE's page at the same index.
  Bytes changed;
  size_t changed_pages = 0, per_page_zstd = 0;
  for (size_t off = 0; off < after.size(); off += ps) {
    const size_t len = std::min(ps, after.size() - off);
    ByteView page(after.data() + off, len);
    if (off + len <= before.size() && std::memcmp(page.data(), before.data() + off, len) == 0) continue;
    changed_pages++;
    changed.insert(changed.end(), page.begin(), page.end());
    per_page_zstd += ZstdSize(zstd, page);
  }
  const size_t ideal_zstd = ZstdSize(zstd, changed);

  std::vector<std::pair<std::string, Chunker>> strategies;
  for (uint32_t n : {1u, 2u, 4u, 16u}) {
    strategies.push_back({"fixed " + std::to_string(n) + " page(s)", [ps, n](ByteView db) {
                            return ByPages(db, ps, [n](ByteView, uint32_t k, uint64_t) { return k >= n; });
                          }});
  }
  const qm::PageChunkerParams page_params[] = {
      {4096, 8192, 65536}, {4096, 4096, 32768}, {4096, 16384, 65536}, {8192, 16384, 65536}};
  for (const auto& p : page_params) {
    const std::string name = "page-CDC " + std::to_string(p.min_bytes / 1024) + "K/" +
                             std::to_string(p.avg_bytes / 1024) + "K/" + std::to_string(p.max_bytes / 1024) + "K" +
                             (p.min_bytes == 4096 && p.avg_bytes == 8192 ? " (default)" : "");
    strategies.push_back(
        {name, [ps, p](ByteView db) {
           qm::PageChunker pc(p, static_cast<uint32_t>(ps));
           return ByPages(db, ps, [&pc](ByteView page, uint32_t k, uint64_t no) { return pc.CutAfter(page, k, no); });
         }});
  }
  const qm::ChunkerParams cdc_params[] = {{16 * 1024, 64 * 1024, 256 * 1024}, {2 * 1024, 8 * 1024, 32 * 1024}};
  for (const auto& p : cdc_params) {
    const std::string name = "FastCDC " + std::to_string(p.min_size / 1024) + "K/" + std::to_string(p.avg_size / 1024) +
                             "K/" + std::to_string(p.max_size / 1024) + "K" +
                             (p == qm::ChunkerParams{} ? " (default)" : "");
    strategies.push_back({name, [p](ByteView db) { return ByFastCdc(db, qm::FastCdcChunker(p)); }});
  }

  std::printf("BEFORE %s: %zu bytes (%zu pages); AFTER %s: %zu bytes (%zu pages); page size %zu\n\n", argv[1],
              before.size(), (before.size() + ps - 1) / ps, argv[2], after.size(), (after.size() + ps - 1) / ps, ps);
  std::printf("Ideal: %zu changed pages, %.2f MiB raw, %.2f MiB zstd -3 in one frame, %.2f MiB zstd -3 per page\n\n",
              changed_pages, changed.size() / kMiB, ideal_zstd / kMiB, per_page_zstd / kMiB);
  std::printf("| strategy | chunks | new chunks | new raw MiB | new zstd MiB | new zstd / ideal | list MiB |\n");
  std::printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
  std::printf("| ideal (changed pages, one frame) | %zu | %zu | %.2f | %.2f | 1.00 | - |\n",
              (after.size() + ps - 1) / ps, changed_pages, changed.size() / kMiB, ideal_zstd / kMiB);
  std::printf("| ideal (changed pages, per page) | %zu | %zu | %.2f | %.2f | %.2f | - |\n",
              (after.size() + ps - 1) / ps, changed_pages, changed.size() / kMiB, per_page_zstd / kMiB,
              ideal_zstd ? double(per_page_zstd) / ideal_zstd : 0.0);
  for (const auto& [name, chunk] : strategies) {
    std::unordered_set<qm::Hash256, qm::Hash256Hasher> seen;
    for (Span s : chunk(before)) seen.insert(qm::Sha256(ByteView(before).subspan(s.off, s.len)));
    const std::vector<Span> spans = chunk(after);
    size_t fresh = 0, fresh_raw = 0, fresh_zstd = 0;
    for (Span s : spans) {
      ByteView c = ByteView(after).subspan(s.off, s.len);
      if (!seen.insert(qm::Sha256(c)).second) continue;
      fresh++;
      fresh_raw += c.size();
      fresh_zstd += ZstdSize(zstd, c);
    }
    std::printf("| %s | %zu | %zu | %.2f | %.2f | %.2f | %.3f |\n", name.c_str(), spans.size(), fresh, fresh_raw / kMiB,
                fresh_zstd / kMiB, ideal_zstd ? double(fresh_zstd) / ideal_zstd : 0.0, spans.size() * 36 / kMiB);
  }
  return 0;
}
