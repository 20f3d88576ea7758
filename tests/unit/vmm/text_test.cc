#include "vmm/text.h"

#include <gtest/gtest.h>

namespace vmm {
namespace {

TEST(EscapeControl, KeepsPrintableAsciiAndEscapesEverythingElse) {
  EXPECT_EQ(escape_control("plain text ~"), "plain text ~");
  EXPECT_EQ(escape_control(std::string_view("a\nb\x1b[2J\x7f\xff\0z", 11)), "a\\x0ab\\x1b[2J\\x7f\\xff\\x00z");
  EXPECT_EQ(escape_control(""), "");
}

TEST(Quoted, WrapsTheEscapedTextInSingleQuotes) {
  EXPECT_EQ(quoted("512X"), "'512X'");
  EXPECT_EQ(quoted("a\tb"), "'a\\x09b'");
}

TEST(HumanSize, PicksTheLargestUnitAndShowsFractionsOnlyWhenInexact) {
  EXPECT_EQ(human_size(0), "0 B");
  EXPECT_EQ(human_size(1023), "1023 B");
  EXPECT_EQ(human_size(4096), "4 KiB");
  EXPECT_EQ(human_size(15ull << 20), "15 MiB");
  EXPECT_EQ(human_size(3ull << 29), "1.5 GiB");
  EXPECT_EQ(human_size(1ull << 40), "1 TiB");
  EXPECT_EQ(human_size(2048ull << 40), "2048 TiB") << "TiB is the largest unit";
}

}  // namespace
}  // namespace vmm
