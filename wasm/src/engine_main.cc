// The WebAssembly engine module has no main program: JavaScript calls the C API (outpost.h).
// This file exists because Emscripten links executables; keeping the exported functions alive
// is the linker's job (-sEXPORTED_FUNCTIONS).
int main() {
  return 0;
}
