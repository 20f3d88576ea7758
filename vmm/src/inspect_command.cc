#include "vmm/inspect_command.h"

#include <algorithm>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "loader/bzimage.h"
#include "loader/elf.h"
#include "loader/image_source.h"
#include "loader/kernel_loader.h"
#include "vmm/exit_codes.h"
#include "vmm/json_writer.h"
#include "vmm/text.h"

namespace vmm {
namespace {

std::string size_text(uint64_t bytes) {
  if (bytes >= (1ull << 20)) return fmt::format("{:#x} ({:.1f} MiB)", bytes, static_cast<double>(bytes) / (1 << 20));
  if (bytes >= (1ull << 10)) return fmt::format("{:#x} ({:.1f} KiB)", bytes, static_cast<double>(bytes) / (1 << 10));
  return fmt::format("{:#x} ({} bytes)", bytes, bytes);
}

std::string_view yes_no(bool b) { return b ? "yes" : "no"; }

}  // namespace

std::string error_line(std::string_view file, std::string_view message) {
  std::string msg = escape_control(message);
  std::string name = escape_control(file);
  if (msg.starts_with(name + ":")) return fmt::format("vmm: {}", msg);
  return fmt::format("vmm: {}: {}", name, msg);
}

std::string format_inspect_table(std::string_view file, const loader::KernelInfo& info) {
  std::vector<std::pair<std::string, std::string>> rows = {
      {"file", escape_control(file)},
      {"format", std::string(loader::to_string(info.format))},
      {"architecture", std::string(loader::to_string(info.arch))},
      {"compression", std::string(loader::to_string(info.compression))},
      {"payload compression", std::string(loader::to_string(info.payload_compression))},
      {"EFI PE stub", std::string(yes_no(info.pe_stub))},
      {"EFI zboot", std::string(yes_no(info.efi_zboot))},
      {"kernel version", info.version.empty() ? "(not found)" : escape_control(info.version)},
      {"protocol version", info.protocol_version.empty() ? "-" : escape_control(info.protocol_version)},
      {info.arch == loader::Arch::kX86_64 ? "entry (64-bit)" : "entry", info.format == loader::KernelFormat::kElf
                             ? fmt::format("{:#x}", info.entry)
                             : fmt::format("{:#x} (offset from the load address)", info.entry)},
      {"PVH entry", !info.pvh_entry ? "none"
                    : info.format == loader::KernelFormat::kBzImage
                        ? fmt::format("{:#x} (in the payload's vmlinux: boots with --boot pvh)", *info.pvh_entry)
                        : fmt::format("{:#x}", *info.pvh_entry)},
      {"preferred load address", fmt::format("{:#x}", info.preferred_load_address)},
      {"load size", size_text(info.load_size)},
      {"relocatable", std::string(yes_no(info.relocatable))},
      {"alignment", info.alignment ? fmt::format("{:#x}", info.alignment) : "none"},
  };
  size_t width = 0;
  for (const auto& [name, value] : rows) width = std::max(width, name.size());
  std::string out;
  for (const auto& [name, value] : rows) out += fmt::format("{:<{}}  {}\n", name, width, value);

  if (!info.fields.empty()) {
    std::vector<std::array<std::string, 4>> table;
    table.push_back({"name", "offset", "value", "note"});
    for (const auto& f : info.fields)
      table.push_back({escape_control(f.name), fmt::format("{:#x}", f.offset), fmt::format("{:#x}", f.value),
                       escape_control(f.note)});
    std::array<size_t, 3> widths{};
    for (const auto& row : table)
      for (size_t i = 0; i < widths.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
    out += "\nheader fields:\n";
    for (const auto& row : table) {
      std::string line = fmt::format("  {:<{}}  {:>{}}  {:>{}}  {}", row[0], widths[0], row[1], widths[1], row[2],
                                     widths[2], row[3]);
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out += line + "\n";
    }
  }
  return out;
}

std::string format_inspect_json(std::string_view file, const loader::KernelInfo& info) {
  JsonWriter w;
  w.begin_object();
  w.key("file").value(file);
  w.key("format").value(loader::to_string(info.format));
  w.key("arch").value(loader::to_string(info.arch));
  w.key("compression").value(loader::to_string(info.compression));
  w.key("payload_compression").value(loader::to_string(info.payload_compression));
  w.key("pe_stub").value(info.pe_stub);
  w.key("efi_zboot").value(info.efi_zboot);
  w.key("version");
  if (info.version.empty()) {
    w.null();
  } else {
    w.value(info.version);
  }
  w.key("protocol_version");
  if (info.protocol_version.empty()) {
    w.null();
  } else {
    w.value(info.protocol_version);
  }
  w.key("entry").hex(info.entry);
  // bzImage and Image entries are offsets from wherever the kernel is loaded.
  w.key("entry_is_offset").value(info.format != loader::KernelFormat::kElf);
  w.key("pvh_entry");
  if (info.pvh_entry) {
    w.hex(*info.pvh_entry);
  } else {
    w.null();
  }
  w.key("preferred_load_address").hex(info.preferred_load_address);
  w.key("load_size").hex(info.load_size);
  w.key("relocatable").value(info.relocatable);
  w.key("alignment").hex(info.alignment);
  w.key("fields").begin_array();
  for (const auto& f : info.fields) {
    w.begin_object();
    w.key("name").value(f.name);
    w.key("offset").hex(f.offset);
    w.key("value").hex(f.value);
    w.key("note").value(f.note);
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return w.str();
}

int run_inspect(const Options& options, std::FILE* out, std::FILE* err) {
  auto src = loader::FileImageSource::open(options.kernel);
  if (!src) {
    fmt::print(err, "{}\n", error_line(options.kernel, src.error().message));
    return kExitLoad;
  }
  auto info = loader::inspect_kernel(*src);
  if (!info) {
    fmt::print(err, "{}\n", error_line(options.kernel, info.error().message));
    return kExitLoad;
  }
  // A bzImage's PVH entry lives in the ELF note of its compressed payload;
  // the PVH boot path unpacks it, so inspect shows what that path would use.
  // The payload must also be a vmlinux the loader accepts: a damaged one
  // would otherwise only show as the guest dying in its own decompressor.
  if (info->format == loader::KernelFormat::kBzImage) {
    auto vmlinux = loader::extract_bzimage_vmlinux(*src);
    if (!vmlinux) {
      fmt::print(err, "{}\n", error_line(options.kernel, vmlinux.error().message));
      return kExitLoad;
    }
    auto elf = loader::inspect_elf(**vmlinux);
    if (!elf) {
      fmt::print(err, "{}\n", error_line(options.kernel, loader::with_context(elf.error(),
                                                                        "bzImage payload is not a loadable x86_64 "
                                                                        "vmlinux").message));
      return kExitLoad;
    }
    if (!info->pvh_entry) info->pvh_entry = elf->pvh_entry;
  }
  std::string text = options.json ? format_inspect_json(options.kernel, *info) : format_inspect_table(options.kernel, *info);
  fmt::print(out, "{}", text);
  std::fflush(out);
  return kExitOk;
}

}  // namespace vmm
