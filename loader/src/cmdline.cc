#include "loader/cmdline.h"

#include <climits>
#include <vector>

namespace loader {
namespace {

// Messages quote the caller's text; keep them one readable line even when the
// text holds control bytes or is huge.
constexpr size_t kMaxQuoted = 160;

std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (size_t i = 0; i < text.size() && i < kMaxQuoted; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c > 0x7e) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  if (text.size() > kMaxQuoted) out += fmt::format("... ({} bytes)", text.size());
  return out;
}

bool printable(char c) { return c >= 0x20 && c <= 0x7e; }

std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

std::string joined(const std::string& head, std::string_view tail) {
  if (tail.empty()) return head;
  if (head.empty()) return std::string(tail);
  std::string out;
  out.reserve(head.size() + 1 + tail.size());
  out += head;
  out += ' ';
  out += tail;
  return out;
}

std::string compose(const std::string& params, const std::string& init_args) {
  if (init_args.empty()) return params;
  return params.empty() ? "-- " + init_args : params + " -- " + init_args;
}

class Checker {
 public:
  explicit Checker(uint64_t capacity) : capacity_(capacity) {}

  std::unexpected<Error> invalid(std::string_view what, std::string_view text, size_t position,
                                 std::string_view problem) const {
    return fail(ErrorCode::kInvalidArgument,
                "kernel command line (capacity {} bytes with NUL): {} {}: {} at position {}", capacity_, what,
                quoted(text), problem, position);
  }

  // Printable ASCII and balanced double quotes.
  Result<void> text(std::string_view what, std::string_view text) const {
    size_t open_quote = 0;
    bool in_quote = false;
    for (size_t i = 0; i < text.size(); ++i) {
      char c = text[i];
      if (!printable(c))
        return invalid(what, text, i,
                       fmt::format("byte {:#04x} is not printable ASCII (0x20..0x7e)", static_cast<unsigned char>(c)));
      if (c == '"') {
        in_quote = !in_quote;
        if (in_quote) open_quote = i;
      }
    }
    if (in_quote) return invalid(what, text, open_quote, "double quote is never closed");
    return {};
  }

 private:
  uint64_t capacity_;
};

}  // namespace

Cmdline::Cmdline(uint64_t capacity) : capacity_(capacity) {}

Result<void> Cmdline::commit(std::string params, std::string init_args, std::string_view what, uint64_t position) {
  std::string full = compose(params, init_args);
  // full.size() + 1 cannot wrap: a std::string is far smaller than 2^64.
  if (full.size() + 1 > capacity_)
    return fail(ErrorCode::kTooLarge,
                "kernel command line: adding {} at position {} would make it {} bytes plus NUL, over its capacity of "
                "{} bytes (NUL included)",
                what, position, full.size(), capacity_);
  params_ = std::move(params);
  init_args_ = std::move(init_args);
  text_ = std::move(full);
  return {};
}

Result<void> Cmdline::append(std::string_view text) {
  Checker check(capacity_);
  if (auto r = check.text("parameters", text); !r) return r;

  // Split into params outside quotes; a bare "--" hands the rest to init, as
  // the kernel's own parser does.
  std::optional<size_t> init_start;
  bool in_quote = false;
  for (size_t i = 0; i < text.size() && !init_start;) {
    if (text[i] == ' ') {
      ++i;
      continue;
    }
    size_t start = i;
    while (i < text.size() && (in_quote || text[i] != ' ')) {
      if (text[i] == '"') in_quote = !in_quote;
      ++i;
    }
    std::string_view token = text.substr(start, i - start);
    if (token == "--") {
      init_start = i;
    } else if (token.front() == '=') {
      return check.invalid("parameters", text, start, "parameter has an empty key");
    }
  }

  std::string_view params = text;
  std::string_view init;
  if (init_start) {
    params = text.substr(0, *init_start - 2);
    init = text.substr(*init_start);
  }
  params = trim_spaces(params);
  init = trim_spaces(init);
  if (params.empty() && init.empty()) return {};
  uint64_t position = params_.empty() ? 0 : params_.size() + 1;
  return commit(joined(params_, params), joined(init_args_, init), quoted(text), position);
}

Result<void> Cmdline::insert(std::string_view key, std::string_view value) {
  Checker check(capacity_);
  if (key.empty()) return check.invalid("key", key, 0, "key is empty");
  for (size_t i = 0; i < key.size(); ++i) {
    char c = key[i];
    if (!printable(c))
      return check.invalid("key", key, i,
                           fmt::format("byte {:#04x} is not printable ASCII (0x20..0x7e)", static_cast<unsigned char>(c)));
    if (c == ' ') return check.invalid("key", key, i, "key holds a space");
    if (c == '=') return check.invalid("key", key, i, "key holds '='");
    if (c == '"') return check.invalid("key", key, i, "key holds a double quote");
  }
  if (key == "--") return check.invalid("key", key, 0, "\"--\" is the init-argument separator, not a key");
  bool has_space = false;
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (!printable(c))
      return check.invalid(fmt::format("value of {}", key), value, i,
                           fmt::format("byte {:#04x} is not printable ASCII (0x20..0x7e)", static_cast<unsigned char>(c)));
    // The kernel has no escape for a quote inside a quoted value.
    if (c == '"')
      return check.invalid(fmt::format("value of {}", key), value, i,
                           "value holds a double quote (values with spaces are quoted for you)");
    if (c == ' ') has_space = true;
  }
  std::string param = has_space ? fmt::format("{}=\"{}\"", key, value) : fmt::format("{}={}", key, value);
  uint64_t position = params_.empty() ? 0 : params_.size() + 1;
  return commit(joined(params_, param), init_args_, quoted(param), position);
}

Result<void> Cmdline::add_virtio_mmio_device(uint64_t size, uint64_t base, uint32_t irq, std::optional<uint32_t> id) {
  Checker check(capacity_);
  std::string desc = fmt::format("virtio-mmio device size {:#x} at {:#x} irq {}", size, base, irq);
  if (size == 0) return check.invalid("virtio_mmio.device for", desc, 0, "device size is 0");
  uint64_t last = 0;
  if (__builtin_add_overflow(base, size - 1, &last))
    return check.invalid("virtio_mmio.device for", desc, 0, "base + size wraps the address space");
  // The kernel reads the id with %d.
  if (id && *id > static_cast<uint32_t>(INT_MAX))
    return check.invalid("virtio_mmio.device for", desc, 0, fmt::format("device id {} does not fit the kernel's int", *id));

  // The kernel's memparse takes K/M/G suffixes; use the largest exact one.
  std::string size_text;
  if (size % (1ull << 30) == 0) {
    size_text = fmt::format("{}G", size >> 30);
  } else if (size % (1ull << 20) == 0) {
    size_text = fmt::format("{}M", size >> 20);
  } else if (size % (1ull << 10) == 0) {
    size_text = fmt::format("{}K", size >> 10);
  } else {
    size_text = fmt::format("{}", size);
  }
  std::string value = fmt::format("{}@{:#x}:{}", size_text, base, irq);
  if (id) value += fmt::format(":{}", *id);
  return insert("virtio_mmio.device", value);
}

Result<void> Cmdline::insert_init_args(std::string_view args) {
  Checker check(capacity_);
  if (auto r = check.text("init arguments", args); !r) return r;
  std::string_view trimmed = trim_spaces(args);
  if (trimmed.empty()) return {};
  return commit(params_, joined(init_args_, trimmed), quoted(args), text_.size());
}

Result<void> load_cmdline(GuestMemory& mem, GuestAddress addr, const Cmdline& cmdline) {
  const std::string& text = cmdline.str();
  uint64_t len = text.size() + 1;
  if (len > cmdline.capacity())
    return fail(ErrorCode::kTooLarge, "kernel command line: {} bytes plus NUL exceed its capacity of {} bytes",
                text.size(), cmdline.capacity());
  auto span = mem.host_span(addr, len);
  if (!span)
    return fail(ErrorCode::kOutOfBounds, "kernel command line ({} bytes with NUL) at {}: {}", len, addr,
                span.error().message);
  auto out = *span;
  for (size_t i = 0; i < text.size(); ++i) out[i] = static_cast<std::byte>(text[i]);
  out[text.size()] = std::byte{0};
  return {};
}

}  // namespace loader
