// Compiled into every executable of a BERYL_SANITIZE build (the root CMakeLists.txt adds it): the
// sanitizers' defaults, so a test binary or the server started by hand or by the e2e suite
// behaves as in CI. ASAN_OPTIONS, UBSAN_OPTIONS, LSAN_OPTIONS and TSAN_OPTIONS in the
// environment still override any of them. BERYL_SANITIZER_DIR is this folder.
#ifndef BERYL_SANITIZER_DIR
#error "BERYL_SANITIZER_DIR must name tests/sanitizers"
#endif

extern "C" {

// Every report stops the process (the build makes only the null check recoverable, and only so
// that ubsan.supp can suppress the one report in CAF's headers).
__attribute__((visibility("default"), used)) const char* __ubsan_default_options() {
  return "halt_on_error=1:print_stacktrace=1:suppressions=" BERYL_SANITIZER_DIR "/ubsan.supp";
}

// A small quarantine of freed blocks: the e2e suite checks that the server's RSS stays flat under
// floods (bounded memory per connection), which ASan's default 256 MB quarantine would hide. A
// use of a recently freed block is still caught.
__attribute__((visibility("default"), used)) const char* __asan_default_options() {
  return "detect_leaks=1:check_initialization_order=1:quarantine_size_mb=8:"
         "thread_local_quarantine_size_kb=64";
}

__attribute__((visibility("default"), used)) const char* __lsan_default_options() {
  return "suppressions=" BERYL_SANITIZER_DIR "/lsan.supp";
}

__attribute__((visibility("default"), used)) const char* __tsan_default_options() {
  return "halt_on_error=1:second_deadlock_stack=1:suppressions=" BERYL_SANITIZER_DIR "/tsan.supp";
}
}
