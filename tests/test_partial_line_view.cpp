// PartialLineView: drawing, erasing and redrawing the terminal's partial row; cutting it to the
// terminal's width by display columns, keeping the end of the text.
#include "logging/partial_line_view.hpp"

#include <catch2/catch.hpp>

#include <string>

using runner::logging::display_width;
using runner::logging::PartialLineView;

TEST_CASE("the partial row is drawn once, erased, and drawn again when needed",
          "[logging][terminal]") {
  PartialLineView view;
  std::string out;
  view.draw(out, 80);
  CHECK(out.empty());  // nothing set
  view.set("P> ", 3, "Password: ");
  view.draw(out, 80);
  CHECK(out == "P> Password: ");
  CHECK(view.drawn());
  out.clear();
  view.draw(out, 80);
  CHECK(out.empty());  // already on screen as it is
  view.erase(out);
  CHECK(out == "\r\x1b[K");
  CHECK_FALSE(view.drawn());
  out.clear();
  view.erase(out);
  CHECK(out.empty());
  view.draw(out, 80);
  CHECK(out == "P> Password: ");
  out.clear();
  view.set("P> ", 3, "Password: hunter");
  view.draw(out, 80);
  CHECK(out == "\r\x1b[KP> Password: hunter");
  out.clear();
  view.clear();
  view.draw(out, 80);
  CHECK(out == "\r\x1b[K");
  CHECK_FALSE(view.drawn());
}

TEST_CASE("a partial row wider than the terminal keeps its end after an ellipsis",
          "[logging][terminal]") {
  PartialLineView view;
  std::string text;
  for (int i = 0; i < 50; ++i) text += static_cast<char>('a' + i % 26);
  view.set("0123456789", 10, text);
  std::string out;
  view.draw(out, 30);
  // 30 columns, one left free: 10 for the prefix, the ellipsis and the last 18 characters.
  CHECK(out == "0123456789\xE2\x80\xA6" + text.substr(32));
  CHECK(display_width(out) == 29);

  // Wide characters count two columns and are never cut in half.
  std::string wide;
  for (int i = 0; i < 20; ++i) wide += "\xE6\xBC\xA2";  // 漢
  view.set("> ", 2, wide);
  out.clear();
  view.draw(out, 20);
  const std::string row = out.substr(out.rfind("> ") + 2);
  CHECK(row.rfind("\xE2\x80\xA6", 0) == 0);
  CHECK(display_width(row) <= 17);
  CHECK((row.size() - 3) % 3 == 0);

  // A terminal too narrow for any text gets no row at all.
  view.set("0123456789", 10, "x");
  out.clear();
  view.draw(out, 12);
  CHECK(out == "\r\x1b[K");
  CHECK_FALSE(view.drawn());
}

TEST_CASE("display width counts columns, not bytes", "[logging][terminal]") {
  CHECK(display_width("abc") == 3);
  CHECK(display_width("caf\xC3\xA9") == 4);
  CHECK(display_width("\xE6\xBC\xA2\xE5\xAD\x97") == 4);  // 漢字
  CHECK(display_width("\xF0\x9F\x98\x80") == 2);          // 😀
  CHECK(display_width("\t") == 8);
  CHECK(display_width("") == 0);
}
