#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "rnn/core/atomic_file.hpp"
#include "rnn/core/error.hpp"
#include "support/file_limits.hpp"
#include "support/temp_dir.hpp"

namespace rnn {
namespace fs = std::filesystem;
namespace {

using test::entries_of;

std::string contents_of(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

std::string error_of(auto&& action) {
  try {
    action();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// Root ignores file permissions, so read-only folders cannot be tested as root.
bool permissions_apply() {
  return ::geteuid() != 0;
}

}  // namespace

TEST_CASE("atomic write: creates, replaces, and leaves no temporary") {
  const test::TempDir dir("rnnl-test-atomic");
  const auto path = dir / "out.bin";
  write_file_atomically(path, "first");
  CHECK(contents_of(path) == "first");
  write_file_atomically(path, "second, longer");
  CHECK(contents_of(path) == "second, longer");
  write_file_atomically(path, "");
  CHECK(contents_of(path).empty());
  CHECK(entries_of(dir.path()) == std::set<std::string>{"out.bin"});
}

TEST_CASE("atomic write: the new file gets the usual permissions (0666 minus the umask)") {
  const test::TempDir dir("rnnl-test-atomic");
  write_file_atomically(dir / "a", "x");
  write_text(dir / "b", "x");  // created by open(2) with 0666 and the umask
  CHECK(fs::status(dir / "a").permissions() == fs::status(dir / "b").permissions());
}

TEST_CASE("atomic write: a symlink at the target is replaced, never written through") {
  const test::TempDir dir("rnnl-test-atomic");
  write_text(dir / "victim", "precious");
  fs::create_symlink(dir / "victim", dir / "out.bin");
  write_file_atomically(dir / "out.bin", "new");
  CHECK(contents_of(dir / "victim") == "precious");
  CHECK_FALSE(fs::is_symlink(dir / "out.bin"));
  CHECK(contents_of(dir / "out.bin") == "new");
}

TEST_CASE("atomic write: every failure names the target, gives the reason and leaves nothing behind") {
  const test::TempDir dir("rnnl-test-atomic");
  SUBCASE("missing folder") {
    const auto target = dir / "missing" / "out.bin";
    const std::string e = error_of([&] { write_file_atomically(target, "x"); });
    CHECK(contains(e, target.string()));
    CHECK(contains(e, "No such file or directory"));
    CHECK(entries_of(dir.path()).empty());
  }
  SUBCASE("target is a directory") {
    fs::create_directory(dir / "out.bin");
    const std::string e = error_of([&] { write_file_atomically(dir / "out.bin", "x"); });
    CHECK(contains(e, (dir / "out.bin").string()));
    CHECK(contains(e, "Is a directory"));
    CHECK(entries_of(dir.path()) == std::set<std::string>{"out.bin"});
  }
  SUBCASE("the disk fills up during the write") {
    write_text(dir / "out.bin", "earlier");
    std::string e;
    {
      const test::FileSizeLimit limit(1000);
      e = error_of([&] { write_file_atomically(dir / "out.bin", std::string(5000, 'z')); });
    }
    CHECK(contains(e, (dir / "out.bin").string()));
    CHECK(contains(e, "write failed: File too large"));
    CHECK(contents_of(dir / "out.bin") == "earlier");
    CHECK(entries_of(dir.path()) == std::set<std::string>{"out.bin"});
  }
  SUBCASE("read-only folder") {
    if (!permissions_apply()) return;
    fs::create_directory(dir / "ro");
    write_text(dir / "ro" / "out.bin", "earlier");
    fs::permissions(dir / "ro", fs::perms::owner_read | fs::perms::owner_exec);
    const std::string e = error_of([&] { write_file_atomically(dir / "ro" / "out.bin", "x"); });
    fs::permissions(dir / "ro", fs::perms::owner_all);
    CHECK(contains(e, "Permission denied"));
    CHECK(contents_of(dir / "ro" / "out.bin") == "earlier");
    CHECK(entries_of(dir / "ro") == std::set<std::string>{"out.bin"});
  }
  SUBCASE("a path that names no file") {
    CHECK(contains(error_of([&] { write_file_atomically(dir.path() / "", "x"); }), "not a file name"));
  }
}

TEST_CASE("atomic write: SIGINT during the write acts only once the temporary is gone") {
  const test::TempDir dir("rnnl-test-atomic");
  const auto target = dir / "big.bin";
  const std::string data(std::size_t{64} << 20U, 'x');  // long enough to be caught in the act
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    std::signal(SIGINT, SIG_DFL);  // as in a program that does not handle it
    try {
      write_file_atomically(target, data);
    } catch (...) {
      ::_exit(3);
    }
    ::_exit(0);
  }
  // Interrupt the writer as soon as its temporary exists.
  bool interrupted = false;
  int status = 0;
  bool exited = false;
  while (!interrupted && !exited) {
    for (const auto& name : entries_of(dir.path())) {
      if (name.starts_with(".big.bin.tmp.")) {
        ::kill(child, SIGINT);
        interrupted = true;
      }
    }
    exited = ::waitpid(child, &status, WNOHANG) == child;
  }
  if (!exited) REQUIRE(::waitpid(child, &status, 0) == child);
  if (!interrupted) {
    MESSAGE("the write ended before its temporary was seen: nothing to check");
    return;
  }
  // The signal still ended the writer, but only after the file was in place.
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGINT);
  CHECK(entries_of(dir.path()) == std::set<std::string>{"big.bin"});
  CHECK(fs::file_size(target) == data.size());
}

TEST_CASE("check_writable: sees the problems a later write would meet, and creates nothing") {
  const test::TempDir dir("rnnl-test-atomic");
  CHECK_NOTHROW(check_writable(dir / "new.bin"));
  write_text(dir / "old.bin", "x");
  CHECK_NOTHROW(check_writable(dir / "old.bin"));
  fs::create_symlink(dir / "nowhere", dir / "dangling");
  CHECK_NOTHROW(check_writable(dir / "dangling"));

  CHECK(contains(error_of([&] { check_writable(dir / "missing" / "a.bin"); }), "No such file or directory"));
  fs::create_directory(dir / "folder");
  CHECK(contains(error_of([&] { check_writable(dir / "folder"); }), "Is a directory"));
  CHECK(contains(error_of([&] { check_writable(dir / "old.bin" / "a.bin"); }), "Not a directory"));
  CHECK_THROWS_AS(check_writable(""), Error);
  if (permissions_apply()) {
    fs::create_directory(dir / "ro");
    fs::permissions(dir / "ro", fs::perms::owner_read | fs::perms::owner_exec);
    const std::string e = error_of([&] { check_writable(dir / "ro" / "a.bin"); });
    fs::permissions(dir / "ro", fs::perms::owner_all);
    CHECK(contains(e, "Permission denied"));
  }
  std::set<std::string> expected = {"old.bin", "dangling", "folder"};
  if (permissions_apply()) expected.insert("ro");
  CHECK(entries_of(dir.path()) == expected);
}

TEST_CASE("same_target: one folder entry however it is spelled") {
  const test::TempDir dir("rnnl-test-atomic");
  fs::create_directory(dir / "sub");
  fs::create_directory_symlink(dir / "sub", dir / "sublink");
  const auto x = dir / "sub" / "x.bin";
  CHECK(same_target(x, x));
  CHECK(same_target(x, dir / "sub" / "." / "x.bin"));
  CHECK(same_target(x, dir / "sub" / ".." / "sub" / "x.bin"));
  CHECK(same_target(x, dir / "sublink" / "x.bin"));
  CHECK(same_target(dir / "missing" / "y", dir / "missing" / "." / "y"));
  CHECK_FALSE(same_target(x, dir / "sub" / "y.bin"));
  CHECK_FALSE(same_target(x, dir / "x.bin"));
  // A symlink as the last component is replaced by a write, so it is its own target.
  write_text(x, "x");
  fs::create_symlink(x, dir / "sub" / "alias.bin");
  CHECK_FALSE(same_target(x, dir / "sub" / "alias.bin"));
  // Relative spellings resolve against the working directory.
  const auto cwd = fs::current_path();
  fs::current_path(dir.path());
  CHECK(same_target("sub/x.bin", x));
  CHECK(same_target("x.bin", "./x.bin"));
  fs::current_path(cwd);
}

TEST_CASE("append file: untouched until the first record, then whole records only") {
  const test::TempDir dir("rnnl-test-atomic");
  const auto path = dir / "log";
  write_text(path, "earlier\n");
  AppendFile f(path);
  CHECK_FALSE(f.published());
  CHECK(contents_of(path) == "earlier\n");
  f.append("one\n");
  CHECK(f.published());
  CHECK(contents_of(path) == "one\n");
  f.append("two\n");
  CHECK(contents_of(path) == "one\ntwo\n");
  {
    const test::FileSizeLimit limit(20);
    CHECK(contains(error_of([&] { f.append("a record longer than the space left\n"); }), "File too large"));
  }
  CHECK(contents_of(path) == "one\ntwo\n");
  f.append("three\n");
  CHECK(contents_of(path) == "one\ntwo\nthree\n");
  CHECK(entries_of(dir.path()) == std::set<std::string>{"log"});

  AppendFile moved = std::move(f);
  moved.append("four\n");
  CHECK(contents_of(path) == "one\ntwo\nthree\nfour\n");
}

TEST_CASE("append file: a failed first record leaves the earlier file as it was") {
  const test::TempDir dir("rnnl-test-atomic");
  const auto path = dir / "log";
  write_text(path, "earlier\n");
  AppendFile f(path);
  {
    const test::FileSizeLimit limit(10);
    CHECK_THROWS_AS(f.append(std::string(100, 'x')), Error);
  }
  CHECK_FALSE(f.published());
  CHECK(contents_of(path) == "earlier\n");
  CHECK(entries_of(dir.path()) == std::set<std::string>{"log"});
  f.append("first\n");
  CHECK(contents_of(path) == "first\n");
}

}  // namespace rnn
