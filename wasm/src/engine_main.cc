// The WebAssembly engine module has no main program: JavaScript calls the C API (outpost.h),
// whose functions -sEXPORTED_FUNCTIONS keeps alive. CMake links an executable from at least one
// source file: this one.
