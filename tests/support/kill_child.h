// Test support: a process killed by SIGKILL at a chosen point (a crash with a transaction open).
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <functional>

namespace outpost::testing {

// Runs `work` in a forked child. `work` returns 0 once the state to crash in is reached (say, a
// transaction left open); the child then waits and is killed with SIGKILL. Any other value is a
// setup failure, reported as the child's exit code. Returns once the child is gone.
inline void KillChildAfter(const std::function<int()>& work) {
  int ready[2];
  REQUIRE(pipe(ready) == 0);
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    close(ready[0]);
    int failed = work();
    if (failed != 0) _exit(failed);
    char c = 'x';
    if (write(ready[1], &c, 1) != 1) _exit(100);
    pause();  // killed here
    _exit(0);
  }
  close(ready[1]);
  char c;
  const bool reached = read(ready[0], &c, 1) == 1;
  close(ready[0]);
  if (reached) REQUIRE(kill(child, SIGKILL) == 0);
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  INFO("child exit code " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1));
  REQUIRE(reached);
  CHECK(WIFSIGNALED(status));
}

}  // namespace outpost::testing
