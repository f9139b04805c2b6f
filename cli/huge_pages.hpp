#pragma once
// Transparent huge pages for the command's large buffers.
//
// Judging one realistic layer allocates and fills tensors of 100 MB and more (the
// kernel's guarded buffers, the reference's inputs and answers). In 4 KiB pages each
// first touch is a page fault; on the project's machine a fresh 100 MB block costs
// 660 ms to fault in and fill, 60 ms in 2 MiB pages, and the faults were a fifth of the
// time of certify's largest item (docs/certify.md, "Memory"). glibc's malloc asks for huge
// pages only when the tunable glibc.malloc.hugetlb=1 is set when the process starts,
// so the command re-executes itself once with it added to GLIBC_TUNABLES.
namespace bnconform::cli {

// Returns when the tunable is already set, when BNCONFORM_HUGE_PAGES=0, or when the
// re-execution fails (the command then runs as it is, in small pages).
void reexecute_with_huge_pages(char** argv);

}  // namespace bnconform::cli
