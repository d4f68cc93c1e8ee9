# Third-party dependencies. Nothing is downloaded here: scripts/setup.sh installs Debian packages
# and fetches the pinned sources into OUTPOST_DEPS_DIR.

# --- SQLite: the pinned amalgamation, compiled from source for every target ---------------------
set(_sqlite_dir "${OUTPOST_DEPS_DIR}/sqlite")
if(NOT EXISTS "${_sqlite_dir}/sqlite3.c")
  message(FATAL_ERROR "SQLite amalgamation missing in ${_sqlite_dir}: run scripts/setup.sh")
endif()
add_library(outpost_sqlite STATIC "${_sqlite_dir}/sqlite3.c")
target_include_directories(outpost_sqlite SYSTEM PUBLIC "${_sqlite_dir}")
target_compile_definitions(outpost_sqlite PUBLIC
  SQLITE_DQS=0                      # "x" is always an identifier, never a string
  SQLITE_DEFAULT_FOREIGN_KEYS=1
  SQLITE_ENABLE_COLUMN_METADATA     # result columns map back to schema columns
  SQLITE_OMIT_LOAD_EXTENSION
  SQLITE_OMIT_DEPRECATED
  SQLITE_DEFAULT_MEMSTATUS=0
  SQLITE_LIKE_DOESNT_MATCH_BLOBS
  SQLITE_MAX_EXPR_DEPTH=0
  # A local store holds a tenant's data (and the CLI's server token): its files, journals
  # included, are created readable by their owner only.
  SQLITE_DEFAULT_FILE_PERMISSIONS=0600)
if(EMSCRIPTEN)
  target_compile_definitions(outpost_sqlite PUBLIC SQLITE_THREADSAFE=0)
else()
  target_compile_definitions(outpost_sqlite PUBLIC SQLITE_THREADSAFE=1)
  find_package(Threads REQUIRED)
  target_link_libraries(outpost_sqlite PUBLIC Threads::Threads ${CMAKE_DL_LIBS} m)
endif()
target_compile_options(outpost_sqlite PRIVATE -w)
set_target_properties(outpost_sqlite PROPERTIES POSITION_INDEPENDENT_CODE ON)

# --- nlohmann_json (header only, Debian) ---------------------------------------------------------
find_package(nlohmann_json 3.11 QUIET)
if(nlohmann_json_FOUND)
  add_library(outpost_json INTERFACE)
  target_link_libraries(outpost_json INTERFACE nlohmann_json::nlohmann_json)
else()
  # Emscripten's sysroot does not see Debian's packages. The header-only library is the same for
  # every target, but /usr/include itself must not be on the path (glibc headers would shadow
  # the sysroot's), so expose just its nlohmann/ directory.
  if(NOT EXISTS /usr/include/nlohmann/json.hpp)
    message(FATAL_ERROR "nlohmann/json.hpp missing: run scripts/setup.sh")
  endif()
  set(_nlohmann_inc "${CMAKE_BINARY_DIR}/nlohmann-include")
  file(MAKE_DIRECTORY "${_nlohmann_inc}")
  file(CREATE_LINK /usr/include/nlohmann "${_nlohmann_inc}/nlohmann" SYMBOLIC)
  add_library(outpost_json INTERFACE)
  target_include_directories(outpost_json SYSTEM INTERFACE "${_nlohmann_inc}")
endif()

# --- libsodium: Debian's for native, built from source for WebAssembly --------------------------
add_library(outpost_sodium INTERFACE)
if(EMSCRIPTEN)
  set(_sodium "${OUTPOST_DEPS_DIR}/wasm/libsodium")
  if(NOT EXISTS "${_sodium}/lib/libsodium.a")
    message(FATAL_ERROR "libsodium for WebAssembly missing: run scripts/setup.sh --wasm")
  endif()
  target_include_directories(outpost_sodium SYSTEM INTERFACE "${_sodium}/include")
  target_link_libraries(outpost_sodium INTERFACE "${_sodium}/lib/libsodium.a")
else()
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium>=1.0.18)
  target_link_libraries(outpost_sodium INTERFACE PkgConfig::SODIUM)
endif()

# --- Server side: libpq ------------------------------------------------------------------------
if(OUTPOST_BUILD_SERVER)
  find_package(PostgreSQL REQUIRED)
endif()
