#include "rnn/core/cache.hpp"

#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <emmintrin.h>
#endif

namespace rnn {

void evict_from_caches(const float* data, std::size_t count) {
#if defined(__x86_64__) || defined(__i386__)
  if (count == 0) return;
  constexpr std::uintptr_t kLine = 64;
  const auto begin = reinterpret_cast<std::uintptr_t>(data) & ~(kLine - 1);
  const auto end = reinterpret_cast<std::uintptr_t>(data + count);
  for (std::uintptr_t line = begin; line < end; line += kLine) _mm_clflush(reinterpret_cast<const void*>(line));
#else
  (void)data;
  (void)count;
#endif
}

}  // namespace rnn
