// Encryption at rest (outpost/encryption.h, docs/local-store.md): what reaches the disk, keys,
// tampering, crashes and rekeying, observed through the files a store leaves.
#include "outpost/encryption.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "kill_child.h"
#include "outpost/store.h"
#include "test_schema.h"

namespace outpost {

using nlohmann::json;
using testing::CoreTestSchema;

namespace {

constexpr const char* kMarker = "Marker-7f3a-Confidential-Payroll";
constexpr const char* kTokenMarker = "eyJToken-Marker-5d1c-Secret";
constexpr const char* kProject = "0190a5d2-1c4e-7000-8000-0000000000e1";

std::string TempDir() {
  char tmpl[] = "/tmp/outpost-crypt-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  return tmpl;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

bool Exists(const std::string& path) {
  return std::filesystem::exists(path);
}

// Whether `text` occurs in the database file, its WAL or its rollback journal.
bool OnDisk(const std::string& db, const std::string& text) {
  for (const char* suffix : {"", "-wal", "-journal"}) {
    if (ReadAll(db + suffix).find(text) != std::string::npos) return true;
  }
  return false;
}

StoreOptions Passphrase(const std::string& text, bool wal = true) {
  StoreOptions o;
  o.wal = wal;
  o.encryption = EncryptionKey::Passphrase(text, EncryptionCost::ForTests());
  return o;
}

StoreOptions RawKey(char fill) {
  StoreOptions o;
  auto key = EncryptionKey::Raw(std::string(32, fill));
  REQUIRE(key.ok());
  o.encryption = *key;
  return o;
}

std::unique_ptr<Store> OpenOk(const std::string& path, const StoreOptions& options) {
  auto store = Store::Open(path, options);
  INFO(store.status().ToString());
  REQUIRE(store.ok());
  return std::move(store).value();
}

std::unique_ptr<Store> Mirrored(const std::string& path, const StoreOptions& options) {
  auto store = OpenOk(path, options);
  auto report = store->ApplySchema(CoreTestSchema());
  INFO(report.status().ToString());
  REQUIRE(report.ok());
  return store;
}

void AddProject(Store& s, const std::string& id, const std::string& name) {
  auto r = s.Execute("INSERT INTO projects (id, name) VALUES (?, ?)", json::array({id, name}));
  INFO(r.status().ToString());
  REQUIRE(r.ok());
}

std::string ProjectName(Store& s, const std::string& id) {
  auto r = s.Execute("SELECT name FROM projects WHERE id = ?", json::array({id}));
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return r->rows.empty() ? std::string() : r->rows[0][0].get<std::string>();
}

std::string IntegrityCheck(Store& s) {
  auto r = s.Execute("PRAGMA integrity_check");
  if (!r.ok()) return r.status().ToString();
  return r->rows[0][0].get<std::string>();
}

// Writes the marker as app data (in WAL or journal mode) and the token marker as metadata, then
// inspects the files while the store is open (WAL not checkpointed) and while an update of the
// marker's page is open (its old image in the journal), and after closing.
void CheckMarkersOnDisk(const std::string& path, const StoreOptions& options, bool expect_found) {
  auto store = Mirrored(path, options);
  AddProject(*store, kProject, kMarker);
  REQUIRE(store->SetMeta("token", kTokenMarker).ok());
  for (int i = 0; i < 50; ++i) {
    AddProject(*store, "0190a5d2-1c4e-7000-8000-" + std::to_string(100000000000 + i),
               std::string(kMarker) + " copy " + std::to_string(i));
  }
  bool found = OnDisk(path, kMarker) || OnDisk(path, kTokenMarker);
  REQUIRE(store->Execute("BEGIN").ok());
  REQUIRE(
      store->Execute("UPDATE projects SET name = 'changed' WHERE id = ?", json::array({kProject}))
          .ok());
  REQUIRE(store->SetMeta("token", "changed").ok());
  REQUIRE(store->Execute("PRAGMA cache_spill = 1").ok());
  found = found || OnDisk(path, kMarker) || OnDisk(path, kTokenMarker);
  if (!options.wal) CHECK(Exists(path + "-journal"));
  REQUIRE(store->Execute("ROLLBACK").ok());
  store.reset();
  found = found || OnDisk(path, kMarker) || OnDisk(path, kTokenMarker);
  CHECK(found == expect_found);
}

}  // namespace

TEST_CASE("values written through the API never reach the disk in plain text", "[crypt]") {
  for (bool wal : {true, false}) {
    INFO("wal " << wal);
    std::string dir = TempDir();
    // The control: the same writes without a key are visible in the files.
    CheckMarkersOnDisk(
        dir + "/plain.db",
        [&] {
          StoreOptions o;
          o.wal = wal;
          return o;
        }(),
        true);
    CheckMarkersOnDisk(dir + "/secret.db", Passphrase("correct horse", wal), false);
    auto store = OpenOk(dir + "/secret.db", Passphrase("correct horse", wal));
    CHECK(ProjectName(*store, kProject) == kMarker);
    CHECK(*store->GetMeta("token") == std::optional<std::string>(kTokenMarker));
    CHECK(IntegrityCheck(*store) == "ok");
  }
}

TEST_CASE("a WAL and a journal left mid-transaction are encrypted and the transaction is undone",
          "[crypt]") {
  std::string dir = TempDir();
  const std::string path = dir + "/field.db";
  // WAL: an un-checkpointed commit copied with its WAL, as a crash leaves them.
  {
    auto store = Mirrored(path, Passphrase("pw"));
    AddProject(*store, kProject, kMarker);
    std::filesystem::copy_file(path, dir + "/copy.db");
    std::filesystem::copy_file(path + "-wal", dir + "/copy.db-wal");
    CHECK_FALSE(OnDisk(dir + "/copy.db", kMarker));
  }
  {
    auto copy = OpenOk(dir + "/copy.db", Passphrase("pw"));
    CHECK(ProjectName(*copy, kProject) == kMarker);
    CHECK(IntegrityCheck(*copy) == "ok");
  }
  // Rollback journal: a process killed after spilling a large transaction into the file leaves a
  // hot journal of encrypted page images; opening rolls it back.
  const std::string jpath = dir + "/journal.db";
  StoreOptions journal = Passphrase("pw", /*wal=*/false);
  journal.cache_mib = 1;
  {
    auto store = Mirrored(jpath, journal);
    AddProject(*store, kProject, kMarker);
  }
  testing::KillChildAfter([&]() -> int {
    auto store = Store::Open(jpath, journal);
    if (!store.ok()) return 2;
    auto& s = *store;
    if (!s->Execute("BEGIN").ok()) return 3;
    if (!s->Execute("UPDATE projects SET name = 'uncommitted'").ok()) return 4;
    for (int i = 0; i < 3000; ++i) {
      if (!s->Execute("INSERT INTO tasks (project_id, title) VALUES (?, ?)",
                      json::array({kProject, std::string(900, 'x') + std::to_string(i)}))
               .ok()) {
        return 5;
      }
    }
    if (!std::filesystem::exists(jpath + "-journal")) return 6;
    // Closing would roll the transaction back: the store stays open until the process dies.
    (void)store->release();
    return 0;  // killed with pages of the open transaction in the file
  });
  REQUIRE(Exists(jpath + "-journal"));
  CHECK_FALSE(OnDisk(jpath, kMarker));
  auto store = OpenOk(jpath, journal);
  CHECK(ProjectName(*store, kProject) == kMarker);
  CHECK(store->Execute("SELECT count(*) FROM tasks")->rows[0][0] == 0);
  CHECK(IntegrityCheck(*store) == "ok");
}

TEST_CASE("a wrong or missing key fails clearly and leaves the file as it was", "[crypt]") {
  std::string dir = TempDir();
  const std::string path = dir + "/field.db";
  {
    auto store = Mirrored(path, Passphrase("right"));
    AddProject(*store, kProject, kMarker);
  }
  const std::string before = ReadAll(path);
  REQUIRE(before.size() > 4096);

  auto wrong = Store::Open(path, Passphrase("wrong"));
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.status().code() == Code::kUnauthorized);
  CHECK_THAT(wrong.status().message(), Catch::Contains("wrong encryption key"));

  auto none = Store::Open(path);
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().code() == Code::kUnauthorized);
  CHECK_THAT(none.status().message(), Catch::Contains("is encrypted"));

  auto raw = Store::Open(path, RawKey('k'));
  REQUIRE_FALSE(raw.ok());
  CHECK(raw.status().code() == Code::kUnauthorized);

  CHECK(ReadAll(path) == before);
  CHECK_FALSE(Exists(path + "-wal"));
  CHECK_FALSE(Exists(path + "-journal"));

  // A key for a file that is not encrypted is refused too (it would not be encrypted).
  { Mirrored(dir + "/plain.db", StoreOptions()); }
  auto keyed = Store::Open(dir + "/plain.db", Passphrase("right"));
  REQUIRE_FALSE(keyed.ok());
  CHECK(keyed.status().code() == Code::kInvalidArgument);
  CHECK_THAT(keyed.status().message(), Catch::Contains("not encrypted"));

  CHECK_FALSE(EncryptionKey::RawHex("abcd").ok());
  CHECK_FALSE(EncryptionKey::Raw("short").ok());
  auto hex = EncryptionKey::RawHex(std::string(64, 'a'));
  REQUIRE(hex.ok());
  CHECK(hex->secret() == std::string(32, '\xaa'));
}

TEST_CASE("a passphrase and a raw key both open what they created", "[crypt]") {
  std::string dir = TempDir();
  {
    auto store = Mirrored(dir + "/raw.db", RawKey('r'));
    AddProject(*store, kProject, kMarker);
  }
  {
    auto hex = EncryptionKey::RawHex(std::string(64, '7'));  // 0x77 bytes: not the same key
    REQUIRE(hex.ok());
    StoreOptions o;
    o.encryption = *hex;
    auto other = Store::Open(dir + "/raw.db", o);
    REQUIRE_FALSE(other.ok());
    CHECK(other.status().code() == Code::kUnauthorized);
  }
  auto store = OpenOk(dir + "/raw.db", RawKey('r'));
  CHECK(ProjectName(*store, kProject) == kMarker);
  CHECK_FALSE(OnDisk(dir + "/raw.db", kMarker));

  // Two files under one raw key still differ: the page key depends on each file's salt.
  { Mirrored(dir + "/raw2.db", RawKey('r')); }
  CHECK(ReadAll(dir + "/raw.db").substr(40, 16) != ReadAll(dir + "/raw2.db").substr(40, 16));
}

TEST_CASE("a modified page of the file or of the WAL is never read as data", "[crypt]") {
  std::string dir = TempDir();
  const std::string path = dir + "/field.db";
  {
    auto store = Mirrored(path, Passphrase("pw"));
    AddProject(*store, kProject, kMarker);
    REQUIRE(store->Execute("VACUUM").ok());  // no free pages: every page is reachable
  }
  const std::string original = ReadAll(path);
  const size_t pages = (original.size() - 4096) / 4096;
  REQUIRE(pages >= 5);
  for (size_t page = 0; page < pages; ++page) {
    INFO("page " << page + 1);
    std::string bytes = original;
    bytes[4096 + page * 4096 + 777] ^= 0x20;
    WriteAll(path, bytes);
    auto store = Store::Open(path, Passphrase("pw"));
    Status seen = store.status();
    if (store.ok()) {
      // integrity_check reports a page it cannot read in its result: SQLITE_IOERR_DATA (8202).
      auto check = (*store)->Execute("PRAGMA integrity_check");
      seen = check.status();
      if (check.ok() &&
          check->rows[0][0].get<std::string>().find("error code=8202") != std::string::npos) {
        seen = Status(Code::kCorruption, "integrity_check: page failed authentication");
      }
    }
    CHECK(seen.code() == Code::kCorruption);
    CHECK_THAT(seen.message(), Catch::Contains("authentication"));
  }
  WriteAll(path, original);
  {
    auto store = OpenOk(path, Passphrase("pw"));
    CHECK(IntegrityCheck(*store) == "ok");
  }

  // The WAL: two committed transactions left un-checkpointed; a byte changed in the second one's
  // frames ends the log before it (as a torn write would), in the first one's before both. The
  // changed bytes never come back as data.
  {
    auto store = OpenOk(path, Passphrase("pw"));
    REQUIRE(store->Execute("UPDATE projects SET name = 'first'").ok());
    REQUIRE(store->Execute("UPDATE projects SET name = 'second'").ok());
    std::filesystem::copy_file(path, dir + "/w.db");
    std::filesystem::copy_file(path + "-wal", dir + "/w.db-wal");
  }
  const std::string db = ReadAll(dir + "/w.db");
  const std::string wal = ReadAll(dir + "/w.db-wal");
  const size_t frame = 24 + 4096;
  const size_t frames = (wal.size() - 32) / frame;
  REQUIRE(frames >= 2);
  for (size_t f = 0; f < frames; ++f) {
    INFO("frame " << f << " of " << frames);
    std::string bytes = wal;
    bytes[32 + f * frame + 24 + 500] ^= 0x01;
    const std::string copy = dir + "/t" + std::to_string(f) + ".db";
    WriteAll(copy, db);
    WriteAll(copy + "-wal", bytes);
    auto store = Store::Open(copy, Passphrase("pw"));
    if (!store.ok()) {
      CHECK(store.status().code() == Code::kCorruption);
      continue;
    }
    std::string name = ProjectName(**store, kProject);
    CHECK((name == kMarker || name == "first" || name == "second"));
    CHECK(IntegrityCheck(**store) == "ok");
    if (f == frames - 1) CHECK(name != "second");  // the last commit's frame was changed
  }
}

TEST_CASE("rekey replaces the key, encrypts a plain store and decrypts one", "[crypt]") {
  std::string dir = TempDir();
  const std::string path = dir + "/field.db";
  {
    auto store = Mirrored(path, Passphrase("old"));
    AddProject(*store, kProject, kMarker);
    REQUIRE(store->SetMeta("token", kTokenMarker).ok());
  }
  // A leftover of an interrupted rekey is ignored; a wrong current key changes nothing.
  WriteAll(path + ".rekey", "garbage");
  const std::string before = ReadAll(path);
  Status wrong = Store::Rekey(path, Passphrase("not it"), RawKey('n').encryption);
  CHECK(wrong.code() == Code::kUnauthorized);
  CHECK(ReadAll(path) == before);

  Status st = Store::Rekey(path, Passphrase("old"), RawKey('n').encryption);
  INFO(st.ToString());
  REQUIRE(st.ok());
  CHECK_FALSE(Exists(path + ".rekey"));
  CHECK(Store::Open(path, Passphrase("old")).status().code() == Code::kUnauthorized);
  {
    auto store = OpenOk(path, RawKey('n'));
    CHECK(ProjectName(*store, kProject) == kMarker);
    CHECK(*store->GetMeta("token") == std::optional<std::string>(kTokenMarker));
    CHECK(IntegrityCheck(*store) == "ok");
    AddProject(*store, "0190a5d2-1c4e-7000-8000-0000000000e2", "after rekey");
  }
  CHECK_FALSE(OnDisk(path, kMarker));

  // Refused while another connection has the store open.
  {
    auto open = OpenOk(path, RawKey('n'));
    CHECK(Store::Rekey(path, RawKey('n'), std::nullopt).code() == Code::kBusy);
  }

  st = Store::Rekey(path, RawKey('n'), std::nullopt);
  INFO(st.ToString());
  REQUIRE(st.ok());
  CHECK(OnDisk(path, kMarker));
  CHECK(Store::Open(path, RawKey('n')).status().code() == Code::kInvalidArgument);
  {
    auto store = OpenOk(path, StoreOptions());
    CHECK(ProjectName(*store, "0190a5d2-1c4e-7000-8000-0000000000e2") == "after rekey");
    CHECK(IntegrityCheck(*store) == "ok");
  }

  // And back: a plain store encrypted in place.
  st = Store::Rekey(path, StoreOptions(), Passphrase("new").encryption);
  INFO(st.ToString());
  REQUIRE(st.ok());
  CHECK_FALSE(OnDisk(path, kMarker));
  CHECK(Store::Open(path).status().code() == Code::kUnauthorized);
  auto store = OpenOk(path, Passphrase("new"));
  CHECK(ProjectName(*store, kProject) == kMarker);
  CHECK(IntegrityCheck(*store) == "ok");
  struct stat info;
  REQUIRE(stat(path.c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);
}

TEST_CASE("temporary files an encrypted store spills to are encrypted too", "[crypt]") {
  for (bool encrypted : {false, true}) {
    INFO("encrypted " << encrypted);
    std::string dir = TempDir();
    auto store = Mirrored(dir + "/field.db", encrypted ? Passphrase("pw") : StoreOptions());
    // Temporary tables go to a file when asked to, and a tiny cache makes SQLite write and read
    // that file back.
    REQUIRE(store->Execute("PRAGMA temp_store = FILE").ok());
    REQUIRE(store->Execute("CREATE TEMP TABLE scratch (n INTEGER, body TEXT)").ok());
    REQUIRE(store->Execute("PRAGMA temp.cache_size = 4").ok());
    REQUIRE(store->Execute("BEGIN").ok());
    for (int i = 0; i < 400; ++i) {
      REQUIRE(store
                  ->Execute("INSERT INTO temp.scratch VALUES (?, ?)",
                            json::array({i, std::string(kMarker) + std::string(300 + i % 7, 'x')}))
                  .ok());
    }
    // The open temporary file: SQLite unlinks it, /proc still has it.
    bool seen_file = false, marker_seen = false;
    for (const auto& fd : std::filesystem::directory_iterator("/proc/self/fd")) {
      std::error_code ec;
      auto target = std::filesystem::read_symlink(fd.path(), ec).string();
      if (ec || target.find("etilqs_") == std::string::npos) continue;
      seen_file = true;
      marker_seen = marker_seen || ReadAll(fd.path()).find(kMarker) != std::string::npos;
    }
    CHECK(seen_file);
    CHECK(marker_seen == !encrypted);
    REQUIRE(store->Execute("COMMIT").ok());
    auto sum = store->Execute("SELECT count(*), sum(body LIKE ? || '%') FROM temp.scratch",
                              json::array({kMarker}));
    REQUIRE(sum.ok());
    CHECK(sum->rows[0][0] == 400);
    CHECK(sum->rows[0][1] == 400);
  }
}

}  // namespace outpost
