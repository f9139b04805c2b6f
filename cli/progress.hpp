#pragma once
// Progress of a long command (certify, fuzz) on stderr: on a terminal one line
// rewritten in place, a bar with counts and the time left; on anything else (a CI
// log, a pipe) the plain lines the command prints, unchanged. The formatting is
// pure functions, so that it is testable without a terminal.
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>

namespace bnconform::cli {

// Where a command stands.
struct progress_state {
  std::string label;         // "certify", "certify onnx 2/5", "fuzz"
  double fraction = 0;       // of the whole, 0..1 (clamped)
  std::string counts;        // "120/347 items, 2 failed"
  double seconds_left = -1;  // an estimate; negative (or NaN) when unknown
};

// "1 h 02 min left", "3 min 05 s left", "42 s left", "<1 s left"; empty when the
// time is unknown (negative, NaN or infinite).
std::string time_left_text(double seconds);
// "[#####.....]": `width` characters in all (at least 3), the done part filled.
std::string progress_bar(double fraction, int width);
// "label [####......] 40% counts, 3 min 05 s left", at most `columns` characters:
// the bar shrinks first (to 10), then the text is cut.
std::string progress_line(const progress_state& s, int columns);

// Whether stderr is a terminal that can rewrite a line (isatty, and TERM is not
// "dumb").
bool stderr_is_terminal();
// The terminal's width (TIOCGWINSZ on stderr, else $COLUMNS, else 80).
int terminal_columns();

// Draws the line on a terminal and keeps plain lines readable around it.
class progress_display {
 public:
  // `terminal`: draw the bar (else update() draws nothing and lines pass through).
  progress_display(std::ostream& out, bool terminal, int columns = 80);
  ~progress_display();
  progress_display(const progress_display&) = delete;
  progress_display& operator=(const progress_display&) = delete;

  bool terminal() const { return terminal_; }
  // Redraws the bar (a terminal only).
  void update(const progress_state& s);
  // A line of its own: on a terminal the bar is cleared first and drawn again after.
  void line(const std::string& text);
  // Clears the bar, for the output that follows.
  void finish();
  // A stream whose every complete line goes through line(): hand it to code that
  // prints progress lines (certify's `progress` stream).
  std::ostream& lines();

 private:
  class line_buffer;
  void clear();
  std::ostream& out_;
  bool terminal_;
  int columns_;
  std::string drawn_;  // the bar as last drawn, empty when none is shown
  std::unique_ptr<line_buffer> buffer_;
  std::unique_ptr<std::ostream> lines_;
};

}  // namespace bnconform::cli
