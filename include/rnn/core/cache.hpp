#pragma once
// Evicting data that another core is about to write.
//
// In data-parallel training every thread reads every weight in its forward pass, then one thread
// updates each weight, and its first write to a line must recall the copies in the other cores'
// caches. Where the cores share a cache that is nearly free; where they do not (a hypervisor may
// run two vCPUs on different dies, for minutes at a time), every such line is a cross-die round
// trip on the writer's critical path: on rnl_deep, 19-20 k instead of 29-31 k samples/s. A reader
// that is done with the lines can evict them instead (CLFLUSH, which drops them from every cache:
// lines the owner has not written yet are clean, so nothing is written back), and the owner's
// stores then find no copy to recall: 26-27 k samples/s in that placement.
#include <cstddef>

namespace rnn {

// Evicts the cache lines holding data[0, count) from every cache (x86: CLFLUSH; elsewhere a no-op).
// Only a hint: the values are unchanged, and any core may read or write them at the same time.
void evict_from_caches(const float* data, std::size_t count);

}  // namespace rnn
