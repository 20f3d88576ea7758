// A minimal JSON writer for machine-readable output (`vmm inspect --json`).
// Boost.JSON arrived in Boost 1.75; Debian bookworm ships 1.74, so we write
// the little we need ourselves.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vmm {

// Escapes for a JSON string body: quote, backslash and control bytes, and
// bytes >= 0x7f as \u00XX (as Latin-1), so any input gives valid UTF-8 JSON.
std::string json_escape(std::string_view text);

class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view name);
  JsonWriter& value(std::string_view text);
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(bool b);
  JsonWriter& value(uint64_t n);
  // "0x..." string: a JSON number above 2^53 loses precision in most readers.
  JsonWriter& hex(uint64_t n);
  JsonWriter& null();

  // The document, indented by two spaces per level.
  const std::string& str() const { return out_; }

 private:
  void before_value();
  void newline();

  std::string out_;
  struct Level {
    bool array;
    bool empty;
  };
  std::vector<Level> stack_;
  bool after_key_ = false;
};

}  // namespace vmm
