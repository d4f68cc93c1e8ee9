// The C library as an app developer gets it: `cmake --install` of this build into a temporary
// prefix (then moved elsewhere: the package must be relocatable), the exported symbols checked
// (only the outpost_* functions of outpost.h, each under version OUTPOST_1, SONAME
// liboutpost.so.1), and a small C app (tests/capi/installed/app.c) built against the installed
// files with pkg-config and with a CMake consumer project (find_package(Outpost), the shared and
// the static library). Each build of the app then runs against a real PostgreSQL and a real
// outpost-server ("selly"): it bootstraps a fresh store, writes a company offline with a prepared
// statement, fails to sync without a network, syncs, and PostgreSQL must hold the row.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "pg_cluster.h"
#include "server_process.h"

namespace outpost::testing {
namespace {

namespace fs = std::filesystem;

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The functions outpost.h declares: declarations start at the beginning of a line (comments
// and continuation lines do not).
std::set<std::string> DeclaredFunctions(const std::string& header) {
  std::set<std::string> names;
  std::regex decl(R"(^[a-z][^(]*\b(outpost_[a-z0-9_]+)\()");
  std::istringstream in(header);
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_search(line, m, decl)) names.insert(m[1]);
  }
  return names;
}

struct Tenant {
  std::string database_url, organization, token;
};

Tenant SellyTenant() {
  PgCluster& pg = PgCluster::Shared();
  Tenant t;
  t.database_url = pg.LoadApp("capi_installed", "selly", 20);
  auto scalar = [&](const std::string& sql) {
    return Trim(Run("psql -X -A -t -q " + Quote(t.database_url) + " -c " + Quote(sql)));
  };
  t.organization = scalar("SELECT id FROM organizations ORDER BY id LIMIT 1");
  const std::string user = scalar("SELECT id FROM users WHERE organization_id = '" +
                                  t.organization + "' ORDER BY id LIMIT 1");
  REQUIRE(t.organization.size() == 36);
  REQUIRE(user.size() == 36);
  t.token = MintToken(t.organization, user, "customer_admin");
  return t;
}

TEST_CASE("the installed C library: exported symbols, pkg-config and CMake consumers, a sync") {
  char tmpl[] = "/tmp/outpost-capi-install-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  const std::string work = tmpl;
  const std::string staged = work + "/staged";
  Run(Quote(OUTPOST_CMAKE_COMMAND) + " --install " + Quote(OUTPOST_BINARY_DIR) + " --prefix " +
      Quote(staged) + " --component capi");
  // Relocatable: everything below works from wherever the prefix is moved to.
  const std::string prefix = work + "/prefix";
  fs::rename(staged, prefix);
  const std::string lib = prefix + "/" + OUTPOST_INSTALL_LIBDIR;

  SECTION("installed files") {
    for (const char* f : {"/include/outpost.h"}) CHECK(fs::exists(prefix + f));
    for (const char* f :
         {"/liboutpost.so", "/liboutpost.so.1", "/liboutpost.a", "/pkgconfig/outpost.pc",
          "/cmake/Outpost/OutpostConfig.cmake", "/cmake/Outpost/OutpostConfigVersion.cmake",
          "/cmake/Outpost/OutpostTargets.cmake"}) {
      CHECK(fs::exists(lib + f));
    }
    CHECK(ReadFile(prefix + "/include/outpost.h") ==
          ReadFile(SourceDir() + "/capi/include/outpost.h"));
  }

  SECTION("only the outpost_* functions of outpost.h are exported, as OUTPOST_1") {
    const std::string so = lib + "/liboutpost.so.1";
    CHECK(Run("readelf -d " + Quote(so)).find("Library soname: [liboutpost.so.1]") !=
          std::string::npos);
    const std::string versions = Run("readelf -V " + Quote(so));
    CHECK(versions.find("Name: OUTPOST_1") != std::string::npos);
    std::set<std::string> exported;
    std::istringstream nm(Run("nm -D --defined-only --with-symbol-versions " + Quote(so)));
    std::string line;
    while (std::getline(nm, line)) {
      std::istringstream fields(line);
      std::string address, type, name;
      fields >> address >> type >> name;
      if (name == "OUTPOST_1" && type == "A") continue;  // the version's own definition
      INFO(line);
      CHECK(type == "T");
      const auto at = name.find("@@OUTPOST_1");
      REQUIRE(at != std::string::npos);
      CHECK(at + std::string("@@OUTPOST_1").size() == name.size());
      exported.insert(name.substr(0, at));
    }
    const auto declared = DeclaredFunctions(ReadFile(prefix + "/include/outpost.h"));
    CHECK(declared.size() > 50);
    CHECK(exported == declared);
    // SQLite is inside (hidden, checked above); libsodium stays a shared library of the system.
    const std::string needed = Run("readelf -d " + Quote(so));
    CHECK(needed.find("libsodium") != std::string::npos);
    CHECK(needed.find("libsqlite3") == std::string::npos);
  }

  SECTION("a C app built with pkg-config and with CMake syncs a prepared-statement write") {
    const std::string pc_env = "PKG_CONFIG_PATH=" + Quote(lib + "/pkgconfig") + " ";
    CHECK(Trim(Run(pc_env + "pkg-config --variable=prefix outpost")) == lib + "/pkgconfig/../..");
    CHECK(Run(pc_env + "pkg-config --static --libs outpost").find("-lsodium") != std::string::npos);
    const std::string app_c = SourceDir() + "/tests/capi/installed/app.c";
    const std::string app_pc = work + "/app_pkgconfig";
    Run(Quote(OUTPOST_C_COMPILER) + " -std=c11 -Wall -Wextra -Werror " + Quote(app_c) + " -o " +
        Quote(app_pc) + " $(" + pc_env + "pkg-config --cflags --libs outpost) -Wl,-rpath," +
        Quote(lib));
    CHECK(Run("readelf -d " + Quote(app_pc)).find("liboutpost.so.1") != std::string::npos);

    const std::string consumer = work + "/consumer";
    Run(Quote(OUTPOST_CMAKE_COMMAND) + " -S " + Quote(SourceDir() + "/tests/capi/installed") +
        " -B " + Quote(consumer) + " -G " + Quote(OUTPOST_CMAKE_GENERATOR) +
        " -DCMAKE_MAKE_PROGRAM=" + Quote(OUTPOST_MAKE_PROGRAM) + " -DCMAKE_C_COMPILER=" +
        Quote(OUTPOST_C_COMPILER) + " -DCMAKE_PREFIX_PATH=" + Quote(prefix));
    Run(Quote(OUTPOST_CMAKE_COMMAND) + " --build " + Quote(consumer));
    const std::string app_cmake = consumer + "/app", app_static = consumer + "/app_static";
    CHECK(Run("readelf -d " + Quote(app_cmake)).find("liboutpost.so.1") != std::string::npos);
    CHECK(Run("readelf -d " + Quote(app_static)).find("liboutpost.so") == std::string::npos);

    const Tenant t = SellyTenant();
    ServerProcess server(t.database_url, "selly");
    int n = 0;
    for (const std::string& app : {app_pc, app_cmake, app_static}) {
      const std::string name = "capi-installed-" + std::to_string(++n);
      const std::string db = work + "/field-" + std::to_string(n) + ".db";
      const std::string out = Run(Quote(app) + " " + Quote(db) + " " + Quote(server.url()) + " " +
                                  Quote(t.token) + " " + Quote(t.organization) + " " + Quote(name));
      INFO(app << ":\n" << out);
      CHECK(out.find("outpost 0.") != std::string::npos);
      CHECK(out.find("\"bootstrapped_now\":true") != std::string::npos);
      CHECK(out.find("written offline: 1 transaction(s) pending") != std::string::npos);
      CHECK(out.find("offline: unavailable: 1 transaction(s) pending") != std::string::npos);
      CHECK(out.find("synced: {\"bootstrapped_now\":false,\"deletes_received\":0,"
                     "\"pushed_transactions\":1,\"rejected_transactions\":0") != std::string::npos);
      CHECK(Trim(out).ends_with("ok"));
      const std::string rows =
          Trim(Run("psql -X -A -t -q " + Quote(t.database_url) + " -c " +
                   Quote("SELECT count(*) FROM companies WHERE name_en = '" + name +
                         "' AND organization_id = '" + t.organization + "'")));
      CHECK(rows == "1");
    }
  }

  fs::remove_all(work);
}

}  // namespace
}  // namespace outpost::testing
