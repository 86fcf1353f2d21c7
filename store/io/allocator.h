// How the process's heap gives memory back to the system. Part of store/io
// because it talks to the C library's allocator, not to any file.
#pragma once

namespace qm {

// Makes malloc hand buffers of 1 MiB and more straight back to the system
// when they are freed (glibc: a fixed mmap threshold, which also turns off
// the dynamic one). Peak RSS then follows the live heap more closely: a
// 4 GiB initial backup peaked at 119 MiB RSS without it, 100 with it.
// Called once by the CLI, before any thread starts.
void ReturnLargeBuffersOnFree();

// Gives the free pages inside the heap back to the system (glibc:
// malloc_trim(0), which madvises away every whole free page of every arena,
// not only the top of the heap as free() does). Returns whether any memory
// was released. Takes each arena's lock in turn, so a malloc on another
// thread may wait for the walk of one arena; pages given back cost a page
// fault each when reused, so this is for the end of a burst of work (the
// chunk index calls it after each flush and compaction), not for a timer:
// every 100 ms it added ~0.7 s of system time to a 4 GiB restore.
// Thread-safe. A no-op where the allocator has no such call.
bool ReleaseFreeHeapPages();

}  // namespace qm
