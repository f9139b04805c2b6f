#pragma once
// Runs the built bnconform executable as a user would, through the shell, and
// keeps what it printed: tests of the command see exit codes, stdout and the
// one-line errors on stderr exactly as a user does.
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace bnconform::testing {

struct command_outcome {
  int exit_code = -1;  // -1: killed by a signal
  std::string out, err;
};

inline std::string file_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline std::string shell_quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// A scratch directory of this process (ctest runs tests in parallel), emptied.
inline std::filesystem::path scratch_directory(const std::string& suite, const std::string& name) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / (suite + "." + std::to_string(::getpid())) / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// Runs `executable args...`; stdout and stderr go through files in `io`.
inline command_outcome run_command(const std::string& executable,
                                   const std::vector<std::string>& args,
                                   const std::filesystem::path& io) {
  std::string command = shell_quoted(executable);
  for (const std::string& a : args) command += " " + shell_quoted(a);
  command +=
      " >" + shell_quoted((io / "out").string()) + " 2>" + shell_quoted((io / "err").string());
  const int status = std::system(command.c_str());
  command_outcome o;
  o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  o.out = file_text(io / "out");
  o.err = file_text(io / "err");
  return o;
}

}  // namespace bnconform::testing
