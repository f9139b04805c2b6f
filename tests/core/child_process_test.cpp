// The isolation of untrusted code: every way a child can end is seen by the parent,
// and every line a child sent before it died arrives.
#include "core/child_process.hpp"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

namespace bnconform {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct collected {
  std::vector<std::string> lines;
  child_exit exit;
};

collected run(const std::function<int(child_channel&)>& work,
              milliseconds timeout = milliseconds(10000)) {
  collected c;
  c.exit = run_child(work, timeout, [&](const std::string& line) { c.lines.push_back(line); });
  return c;
}

// What a child writes to fds 1 and 2 lands in the shared file, in order; take()
// keeps the first 4 KiB, counts the rest and empties the file, on either side.
TEST(OutputCaptureTest, TakesWhatTheChildPrintedKeepsFourKibAndCountsTheRest) {
  output_capture capture;
  const std::string line(99, 'x');  // 100 bytes with its newline
  const child_exit e = run_child(
      [&](child_channel& ch) {
        capture.redirect_standard_streams();
        std::printf("first on stdout\n");
        std::fprintf(stderr, "then on stderr\n");
        const output_capture::taken t = capture.take();  // the child's own take
        ch.send("took " + std::to_string(t.text.size()) + " " + std::to_string(t.dropped));
        for (int i = 0; i < 100; ++i) std::printf("%s\n", line.c_str());
        return 0;
      },
      milliseconds(5000), [](const std::string&) {});
  EXPECT_TRUE(e.clean()) << e.describe();
  const output_capture::taken t = capture.take();  // the parent's, after the child
  ASSERT_EQ(t.text.size(), output_capture::kept_bytes);
  EXPECT_EQ(t.text.substr(0, 100), line + "\n");
  EXPECT_EQ(t.dropped, 100 * 100 - 4096);
  EXPECT_EQ(capture.take().text, "");  // emptied
}

TEST(OutputCaptureTest, TheFirstTakeSeesBothStreamsInOrder) {
  output_capture capture;
  std::vector<std::string> lines;
  run_child(
      [&](child_channel& ch) {
        capture.redirect_standard_streams();
        std::printf("first on stdout\n");
        std::fprintf(stderr, "then on stderr\n");
        const output_capture::taken t = capture.take();
        ch.send(t.text + "|" + std::to_string(t.dropped));
        return 0;
      },
      milliseconds(5000), [&](const std::string& l) { lines.push_back(l); });
  // send() turns the newlines into spaces.
  EXPECT_THAT(lines, ElementsAre("first on stdout then on stderr |0"));
}

// A file past the limit is cut back to its first 4 KiB while the child runs; the
// cut bytes are counted by trim(), the rest by take().
TEST(OutputCaptureTest, TrimCutsAFileOverItsLimitToFourKib) {
  output_capture capture;
  run_child(
      [&](child_channel&) {
        capture.redirect_standard_streams();
        const std::string block(1 << 16, 'y');
        for (int i = 0; i < 4; ++i) std::fwrite(block.data(), 1, block.size(), stdout);
        std::fflush(stdout);
        return 0;
      },
      milliseconds(5000), [](const std::string&) {});
  EXPECT_EQ(capture.trim(std::int64_t{1} << 20), 0);  // 256 KiB: under the limit
  const std::int64_t cut = capture.trim(std::int64_t{1} << 17);
  EXPECT_EQ(cut, (std::int64_t{1} << 18) - 4096);
  const output_capture::taken t = capture.take();
  EXPECT_EQ(t.text, std::string(4096, 'y'));
  EXPECT_EQ(t.dropped, 0);
}

TEST(ChildProcessTest, DeliversEveryLineInOrderAndTheExitStatus) {
  const collected c = run([](child_channel& ch) {
    ch.send("one");
    ch.send("two\nlines");  // a line break inside a message cannot split it
    return 3;
  });
  EXPECT_THAT(c.lines, ElementsAre("one", "two lines"));
  EXPECT_EQ(c.exit.kind, child_exit::how::exited);
  EXPECT_EQ(c.exit.code, 3);
  EXPECT_FALSE(c.exit.clean());
  EXPECT_EQ(c.exit.describe(), "exited with status 3");
}

TEST(ChildProcessTest, ManyLinesLargerThanThePipeArriveWhole) {
  const std::string long_line(100000, 'x');
  const collected c = run([&](child_channel& ch) {
    for (int i = 0; i < 20; ++i) ch.send(long_line);
    return 0;
  });
  ASSERT_EQ(c.lines.size(), 20u);
  for (const std::string& line : c.lines) EXPECT_EQ(line, long_line);
  EXPECT_TRUE(c.exit.clean());
}

TEST(ChildProcessTest, ASignalIsReportedWithTheLinesSentBeforeIt) {
  const collected c = run([](child_channel& ch) {
    ch.send("begin case-7");
    std::raise(SIGKILL);
    return 0;
  });
  EXPECT_THAT(c.lines, ElementsAre("begin case-7"));
  EXPECT_EQ(c.exit.kind, child_exit::how::signaled);
  EXPECT_EQ(c.exit.code, SIGKILL);
  EXPECT_THAT(c.exit.describe(), HasSubstr("SIGKILL"));
}

TEST(ChildProcessTest, AnAbortIsASignal) {
  const collected c = run([](child_channel&) -> int { std::abort(); });
  EXPECT_EQ(c.exit.kind, child_exit::how::signaled);
  EXPECT_EQ(c.exit.code, SIGABRT);
}

TEST(ChildProcessTest, ASilentChildIsKilledAfterTheIdleTimeout) {
  const auto start = std::chrono::steady_clock::now();
  const collected c = run(
      [](child_channel& ch) {
        ch.send("begin hang");
        for (;;) std::this_thread::sleep_for(milliseconds(50));
        return 0;
      },
      milliseconds(300));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_THAT(c.lines, ElementsAre("begin hang"));
  EXPECT_EQ(c.exit.kind, child_exit::how::timed_out);
  EXPECT_GE(c.exit.silent_seconds, 0.3);
  EXPECT_LT(seconds, 5.0);
  EXPECT_THAT(c.exit.describe(), HasSubstr("timed out"));
}

TEST(ChildProcessTest, EachLineRestartsTheIdleTimeout) {
  const collected c = run(
      [](child_channel& ch) {
        for (int i = 0; i < 6; ++i) {
          std::this_thread::sleep_for(milliseconds(100));
          ch.send("tick");
        }
        return 0;
      },
      milliseconds(400));
  EXPECT_EQ(c.lines.size(), 6u);
  EXPECT_TRUE(c.exit.clean()) << c.exit.describe();
}

TEST(ChildProcessTest, AnExceptionInTheChildIsSentAndEndsIt) {
  const collected c = run([](child_channel&) -> int { throw std::runtime_error("no kernel"); });
  EXPECT_THAT(c.lines, ElementsAre("child-error no kernel"));
  EXPECT_EQ(c.exit.kind, child_exit::how::exited);
  EXPECT_EQ(c.exit.code, 70);
}

TEST(ChildProcessTest, DestroyingARunningChildKillsIt) {
  pid_t pid = 0;
  {
    child_process child([](child_channel&) -> int {
      for (;;) std::this_thread::sleep_for(milliseconds(50));
    });
    pid = child.pid();
    ASSERT_GT(pid, 0);
  }
  EXPECT_NE(::kill(pid, 0), 0);  // reaped: the pid no longer names our child
}

// A process the child forks and leaves holds the pipe open: the parent sees the
// child end all the same, kills what it left, and says so.
TEST(ChildProcessTest, WhatAChildLeavesRunningIsCountedAndKilled) {
  const auto started = std::chrono::steady_clock::now();
  const collected c = run(
      [](child_channel& ch) {
        const pid_t grandchild = ::fork();
        if (grandchild == 0) {
          std::this_thread::sleep_for(std::chrono::seconds(60));
          ::_exit(0);
        }
        ch.send("left " + std::to_string(grandchild));
        return 0;
      },
      milliseconds(30000));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  ASSERT_EQ(c.lines.size(), 1u);
  EXPECT_EQ(c.exit.left_running, 1);
  EXPECT_FALSE(c.exit.clean());
  EXPECT_EQ(c.exit.describe(), "exited with status 0; it left 1 process running (killed)");
  const pid_t grandchild = static_cast<pid_t>(std::stol(c.lines[0].substr(5)));
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_TRUE(running_processes_of(grandchild, true).empty());
}

// Code that closes the child's pipe: the child cannot report, and ends with the
// status that says why at its next line.
TEST(ChildProcessTest, AClosedPipeEndsTheChildWithItsOwnStatus) {
  const collected c = run([](child_channel& ch) {
    ch.send("before");
    ::close(ch.fd());
    ch.send("after");
    return 0;
  });
  EXPECT_THAT(c.lines, ElementsAre("before"));
  EXPECT_EQ(c.exit.kind, child_exit::how::exited);
  EXPECT_EQ(c.exit.code, report_pipe_lost_status);
  EXPECT_THAT(c.exit.describe(), HasSubstr("its report pipe to the harness was closed"));
}

// A descriptor number reused for another file is not the pipe either.
TEST(ChildProcessTest, APipeReplacedByAnotherFileEndsTheChild) {
  const collected c = run([](child_channel& ch) {
    const int fd = ch.fd();
    ::close(fd);
    const int other = ::open("/dev/null", O_WRONLY);
    if (other != fd) ::dup2(other, fd);
    ch.send("into /dev/null");
    return 0;
  });
  EXPECT_TRUE(c.lines.empty());
  EXPECT_EQ(c.exit.code, report_pipe_lost_status);
}

// A child that closes its pipe and goes on is still held to the idle timeout.
TEST(ChildProcessTest, AClosedPipeAndAHangTimesOut) {
  const auto started = std::chrono::steady_clock::now();
  const collected c = run(
      [](child_channel& ch) -> int {
        ::close(ch.fd());
        for (;;) std::this_thread::sleep_for(milliseconds(50));
      },
      milliseconds(500));
  EXPECT_EQ(c.exit.kind, child_exit::how::timed_out);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

}  // namespace
}  // namespace bnconform
