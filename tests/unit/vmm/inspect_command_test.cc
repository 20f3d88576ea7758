#include "vmm/inspect_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "vmm/json_writer.h"

namespace vmm {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

loader::KernelInfo sample_info() {
  loader::KernelInfo info;
  info.format = loader::KernelFormat::kBzImage;
  info.arch = loader::Arch::kX86_64;
  info.payload_compression = loader::Compression::kXz;
  info.version = "6.1.0-13-amd64 (debian-kernel@lists.debian.org)";
  info.protocol_version = "2.15";
  info.preferred_load_address = 0x1000000;
  info.load_size = 0x2000000;
  info.entry = 0x200;
  info.relocatable = true;
  info.alignment = 0x200000;
  info.fields = {{"setup_sects", 0x1f1, 0x1f, ""}, {"loadflags", 0x211, 0x81, "LOADED_HIGH|CAN_USE_HEAP"}};
  return info;
}

TEST(InspectTable, ShowsEveryFactAligned) {
  std::string t = format_inspect_table("vmlinuz", sample_info());
  EXPECT_THAT(t, HasSubstr("file                    vmlinuz\n"));
  EXPECT_THAT(t, HasSubstr("format                  bzImage\n"));
  EXPECT_THAT(t, HasSubstr("architecture            x86_64\n"));
  EXPECT_THAT(t, HasSubstr("compression             none\n"));
  EXPECT_THAT(t, HasSubstr("payload compression     xz\n"));
  EXPECT_THAT(t, HasSubstr("kernel version          6.1.0-13-amd64 (debian-kernel@lists.debian.org)\n"));
  EXPECT_THAT(t, HasSubstr("protocol version        2.15\n"));
  EXPECT_THAT(t, HasSubstr("entry (64-bit)          0x200 (offset from the load address)\n"));
  EXPECT_THAT(t, HasSubstr("PVH entry               none\n"));
  EXPECT_THAT(t, HasSubstr("preferred load address  0x1000000\n"));
  EXPECT_THAT(t, HasSubstr("load size               0x2000000 (32.0 MiB)\n"));
  EXPECT_THAT(t, HasSubstr("relocatable             yes\n"));
  EXPECT_THAT(t, HasSubstr("alignment               0x200000\n"));
  EXPECT_THAT(t, HasSubstr("  name         offset  value  note\n"));
  EXPECT_THAT(t, HasSubstr("  setup_sects   0x1f1   0x1f\n"));
  EXPECT_THAT(t, HasSubstr("  loadflags     0x211   0x81  LOADED_HIGH|CAN_USE_HEAP\n"));
}

TEST(InspectTable, ElfEntryIsAbsoluteAndPvhShown) {
  auto info = sample_info();
  info.format = loader::KernelFormat::kElf;
  info.entry = 0x1000000;
  info.pvh_entry = 0x1000850;
  std::string t = format_inspect_table("vmlinux", info);
  EXPECT_THAT(t, HasSubstr("entry (64-bit)          0x1000000\n"));
  EXPECT_THAT(t, HasSubstr("PVH entry               0x1000850\n"));
}

TEST(InspectTable, EscapesControlBytesFromTheFile) {
  auto info = sample_info();
  info.version = "evil\x1b[2Jversion\n";
  std::string t = format_inspect_table("k", info);
  EXPECT_THAT(t, HasSubstr("evil\\x1b[2Jversion\\x0a"));
  EXPECT_THAT(t, Not(HasSubstr("\x1b")));
}

TEST(InspectJson, HoldsEveryFact) {
  auto info = sample_info();
  info.pvh_entry = 0xffffffff81000850ull;  // beyond 2^53: must survive as a string
  std::string j = format_inspect_json("dir/\"k\"", info);
  EXPECT_EQ(j.front(), '{');
  EXPECT_EQ(j.substr(j.size() - 2), "}\n");
  EXPECT_THAT(j, HasSubstr("\"file\": \"dir/\\\"k\\\"\","));
  EXPECT_THAT(j, HasSubstr("\"format\": \"bzImage\","));
  EXPECT_THAT(j, HasSubstr("\"arch\": \"x86_64\","));
  EXPECT_THAT(j, HasSubstr("\"compression\": \"none\","));
  EXPECT_THAT(j, HasSubstr("\"payload_compression\": \"xz\","));
  EXPECT_THAT(j, HasSubstr("\"version\": \"6.1.0-13-amd64 (debian-kernel@lists.debian.org)\","));
  EXPECT_THAT(j, HasSubstr("\"protocol_version\": \"2.15\","));
  EXPECT_THAT(j, HasSubstr("\"entry\": \"0x200\","));
  EXPECT_THAT(j, HasSubstr("\"entry_is_offset\": true,"));
  EXPECT_THAT(j, HasSubstr("\"pvh_entry\": \"0xffffffff81000850\","));
  EXPECT_THAT(j, HasSubstr("\"preferred_load_address\": \"0x1000000\","));
  EXPECT_THAT(j, HasSubstr("\"load_size\": \"0x2000000\","));
  EXPECT_THAT(j, HasSubstr("\"relocatable\": true,"));
  EXPECT_THAT(j, HasSubstr("\"alignment\": \"0x200000\","));
  EXPECT_THAT(j, HasSubstr("{\n      \"name\": \"loadflags\",\n      \"offset\": \"0x211\",\n      \"value\": \"0x81\",\n"
                           "      \"note\": \"LOADED_HIGH|CAN_USE_HEAP\"\n    }"));
}

TEST(InspectJson, MissingFactsAreNull) {
  loader::KernelInfo info;
  std::string j = format_inspect_json("k", info);
  EXPECT_THAT(j, HasSubstr("\"version\": null,"));
  EXPECT_THAT(j, HasSubstr("\"protocol_version\": null,"));
  EXPECT_THAT(j, HasSubstr("\"pvh_entry\": null,"));
  EXPECT_THAT(j, HasSubstr("\"fields\": []\n"));
}

TEST(JsonEscape, EscapesWhatJsonRequires) {
  EXPECT_EQ(json_escape("a\"b\\c"), "a\\\"b\\\\c");
  EXPECT_EQ(json_escape("\n\r\t"), "\\n\\r\\t");
  EXPECT_EQ(json_escape(std::string("\x01\x1f\x7f", 3)), "\\u0001\\u001f\\u007f");
  EXPECT_EQ(json_escape(std::string("\0", 1)), "\\u0000");
  EXPECT_EQ(json_escape("\xc3\xa9"), "\\u00c3\\u00a9");  // never invalid UTF-8 out
  EXPECT_EQ(json_escape("plain /text"), "plain /text");
}

TEST(JsonWriter, NestsWithCommas) {
  JsonWriter w;
  w.begin_object().key("a").value(uint64_t{1}).key("b").begin_array().value(true).null().end_array();
  w.key("c").begin_object().end_object().end_object();
  EXPECT_EQ(w.str(), "{\n  \"a\": 1,\n  \"b\": [\n    true,\n    null\n  ],\n  \"c\": {}\n}\n");
}

TEST(ErrorLine, PrefixesFileOnce) {
  EXPECT_EQ(error_line("k", "k: cannot open: No such file or directory"), "vmm: k: cannot open: No such file or directory");
  EXPECT_EQ(error_line("k", "bad magic at offset 0x38"), "vmm: k: bad magic at offset 0x38");
  EXPECT_EQ(error_line("k", "two\nlines"), "vmm: k: two\\x0alines");
}

}  // namespace
}  // namespace vmm
