#include "tests/support/archive_craft.h"

#include <gtest/gtest.h>

#include "tests/support/test_util.h"

namespace qm {

std::string CraftArchive(const std::string& dir, const std::string& entries, const std::string& compress) {
  const std::string ext = compress.rfind("zstd", 0) == 0 ? "tar.zst" : "tar.gz";
  const std::string script = dir + "/craft.py";
  WriteStringToFile(
      script,
      "import io,sys,tarfile,json,hashlib\n"
      "t=tarfile.open(fileobj=sys.stdout.buffer,mode='w|',format=tarfile.PAX_FORMAT)\n"
      "def add(name,data=b'',type=tarfile.REGTYPE,link=''):\n"
      "  i=tarfile.TarInfo(name); i.type=type; i.linkname=link; i.size=len(data) if type==tarfile.REGTYPE else 0\n"
      "  i.mode=0o755 if type==tarfile.DIRTYPE else 0o644\n"
      "  t.addfile(i, io.BytesIO(data) if type==tarfile.REGTYPE else None)\n"
      "def info(files):\n"
      "  d={'format':'qm-snap-archive','format_version':1,'time':'2025-01-29T14:30:22Z','hostname':'crafted',"
      "'source':'/crafted','files':[{'path':p,'size':len(b),'sha256':hashlib.sha256(b).hexdigest()} for p,b in "
      "files]}\n"
      "  add('20250129_143022/backup_info.json', json.dumps(d).encode())\n"
      "add('20250129_143022/', type=tarfile.DIRTYPE)\n" +
          entries + "t.close()\n");
  const std::string archive = dir + "/20250129_143022." + ext;
  auto r = RunShell("python3 " + script + " | " + compress + " > " + archive + " && cd " + dir +
                    " && sha256sum 20250129_143022." + ext + " > 20250129_143022.sha256");
  EXPECT_EQ(0, r.code) << r.err;
  return archive;
}

}  // namespace qm
