// Refuses to start on a CPU that lacks the instruction-set level cairn was compiled for
// (CAIRN_X86_LEVEL in CMakeLists.txt), with a message instead of an illegal-instruction crash.
// This file is compiled for baseline x86-64 and runs before every other static initializer.

#include <cstdio>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) && defined(CAIRN_X86_LEVEL)
namespace {

bool Supports(const char* level) {
  __builtin_cpu_init();
  // The features that set each level apart from the one below (clang 14 does not know the level
  // names themselves).
  const bool v2 = __builtin_cpu_supports("sse4.2") && __builtin_cpu_supports("popcnt");
  const bool v3 = v2 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
                  __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("fma") &&
                  __builtin_cpu_supports("pclmul");  // not in the level, but built with it
  const bool v4 = v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
  if (std::strcmp(level, "x86-64-v2") == 0) return v2;
  if (std::strcmp(level, "x86-64-v3") == 0) return v3;
  if (std::strcmp(level, "x86-64-v4") == 0) return v4;
  return true;  // x86-64 or a named CPU: nothing to check here
}

__attribute__((constructor(101))) void CheckCpu() {
  if (Supports(CAIRN_X86_LEVEL)) return;
  std::fprintf(stderr,
               "cairn: this CPU lacks the instruction set cairn was built for (%s); rebuild with "
               "cmake -DCAIRN_X86_LEVEL=x86-64\n",
               CAIRN_X86_LEVEL);
  std::_Exit(2);
}

}  // namespace
#endif
