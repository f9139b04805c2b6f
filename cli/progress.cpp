#include "progress.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <streambuf>

namespace bnconform::cli {

std::string time_left_text(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return {};
  if (seconds < 1) return "<1 s left";
  const auto s = static_cast<long long>(std::llround(seconds));
  char text[64];
  if (s < 60) {
    std::snprintf(text, sizeof text, "%lld s left", s);
  } else if (s < 3600) {
    std::snprintf(text, sizeof text, "%lld min %02lld s left", s / 60, s % 60);
  } else {
    std::snprintf(text, sizeof text, "%lld h %02lld min left", s / 3600, (s % 3600) / 60);
  }
  return text;
}

std::string progress_bar(double fraction, int width) {
  width = std::max(3, width);
  const double f = std::isfinite(fraction) ? std::clamp(fraction, 0.0, 1.0) : 0.0;
  const int inside = width - 2;
  const int filled = static_cast<int>(std::floor(f * inside));
  return "[" + std::string(static_cast<std::size_t>(filled), '#') +
         std::string(static_cast<std::size_t>(inside - filled), '.') + "]";
}

std::string progress_line(const progress_state& s, int columns) {
  const double f = std::isfinite(s.fraction) ? std::clamp(s.fraction, 0.0, 1.0) : 0.0;
  char percent[8];
  std::snprintf(percent, sizeof percent, "%3d%%", static_cast<int>(std::floor(f * 100)));
  std::string tail = std::string(" ") + percent;
  if (!s.counts.empty()) tail += " " + s.counts;
  const std::string left = time_left_text(s.seconds_left);
  if (!left.empty()) tail += ", " + left;
  const std::string head = s.label.empty() ? "" : s.label + " ";
  // The bar takes what the text leaves, between 10 and 40 characters.
  const int room = columns - static_cast<int>(head.size() + tail.size());
  const int width = std::clamp(room, 10, 40);
  std::string line = head + progress_bar(f, width) + tail;
  if (columns > 0 && static_cast<int>(line.size()) > columns) {
    line.resize(static_cast<std::size_t>(columns));
  }
  return line;
}

bool stderr_is_terminal() {
  if (::isatty(STDERR_FILENO) == 0) return false;
  const char* term = std::getenv("TERM");
  return term == nullptr || std::strcmp(term, "dumb") != 0;
}

int terminal_columns() {
  winsize size{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  if (const char* columns = std::getenv("COLUMNS")) {
    const int n = std::atoi(columns);
    if (n > 0) return n;
  }
  return 80;
}

// Collects characters and hands each complete line to the display.
class progress_display::line_buffer : public std::streambuf {
 public:
  explicit line_buffer(progress_display& display) : display_(display) {}

 protected:
  int_type overflow(int_type ch) override {
    if (traits_type::eq_int_type(ch, traits_type::eof())) return traits_type::not_eof(ch);
    if (traits_type::to_char_type(ch) == '\n') {
      display_.line(pending_);
      pending_.clear();
    } else {
      pending_ += traits_type::to_char_type(ch);
    }
    return ch;
  }

 private:
  progress_display& display_;
  std::string pending_;
};

progress_display::progress_display(std::ostream& out, bool terminal, int columns)
    : out_(out),
      terminal_(terminal),
      columns_(std::max(20, columns)),
      buffer_(std::make_unique<line_buffer>(*this)),
      lines_(std::make_unique<std::ostream>(buffer_.get())) {}

progress_display::~progress_display() { finish(); }

void progress_display::clear() {
  if (drawn_.empty()) return;
  out_ << "\r\033[K";
  drawn_.clear();
}

void progress_display::update(const progress_state& s) {
  if (!terminal_) return;
  // One column short of the width: a full line would wrap on some terminals.
  const std::string line = progress_line(s, columns_ - 1);
  if (line == drawn_) return;
  out_ << "\r\033[K" << line << std::flush;
  drawn_ = line;
}

void progress_display::line(const std::string& text) {
  const std::string bar = drawn_;
  clear();
  out_ << text << '\n';
  if (!bar.empty()) {
    out_ << bar;
    drawn_ = bar;
  }
  out_.flush();
}

void progress_display::finish() {
  clear();
  out_.flush();
}

std::ostream& progress_display::lines() { return *lines_; }

}  // namespace bnconform::cli
