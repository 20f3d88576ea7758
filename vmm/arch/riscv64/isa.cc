#include "arch/riscv64/isa.h"

#include <algorithm>
#include <array>

#include "arch/riscv64/kvm_regs.h"

namespace vmm::riscv64 {

namespace {

// KVM_RISCV_ISA_EXT_ID order (uapi ABI, append-only); empty for single letters.
constexpr std::array<std::string_view, 71> kIsaExtNames = {
    "", "", "", "", "", "", "",  // a c d f h i m
    "svpbmt", "sstc", "svinval", "zihintpause", "zicbom", "zicboz", "zbb", "ssaia", "v", "svnapot",
    "zba", "zbs", "zicntr", "zicsr", "zifencei", "zihpm", "smstateen", "zicond", "zbc", "zbkb",
    "zbkc", "zbkx", "zknd", "zkne", "zknh", "zkr", "zksed", "zksh", "zkt", "zvbb",
    "zvbc", "zvkb", "zvkg", "zvkned", "zvknha", "zvknhb", "zvksed", "zvksh", "zvkt", "zfh",
    "zfhmin", "zihintntl", "zvfh", "zvfhmin", "zfa", "ztso", "zacas", "sscofpmf", "zimop", "zca",
    "zcb", "zcd", "zcf", "zcmop", "zawrs", "smnpm", "ssnpm", "svade", "svadu", "svvptc",
    "zabha", "ziccrse", "zaamo", "zalrsc",
};
static_assert(kIsaExtNames[14] == "ssaia" && kIsaExtNames[24] == "zicond" && kIsaExtNames[54] == "sscofpmf");

}  // namespace

std::optional<std::string_view> isa_ext_name(uint32_t ext) {
  if (ext < kIsaExtFirstMultiLetter || ext >= kIsaExtNames.size()) return std::nullopt;
  return kIsaExtNames[ext];
}

uint32_t isa_ext_count() { return kIsaExtNames.size(); }

HartIsa describe_isa(uint64_t letters, const std::vector<uint32_t>& multi_letter) {
  HartIsa out{"rv64", {}};
  for (char letter : std::string_view("iemafdqlcbkjtpvh")) {
    if (!((letters >> (letter - 'a')) & 1)) continue;
    out.isa += letter;
    out.extensions.emplace_back(1, letter);
  }
  for (uint32_t ext : multi_letter) {
    auto name = isa_ext_name(ext);
    if (!name) continue;
    out.isa += '_';
    out.isa += *name;
    out.extensions.emplace_back(*name);
  }
  // Older KVMs do not list zicsr and zifencei, which I implied before they
  // were split out of it; Linux assumes them the same way.
  if (letters & (1u << ('i' - 'a'))) {
    for (std::string_view implied : {"zicsr", "zifencei"}) {
      if (std::find(out.extensions.begin(), out.extensions.end(), implied) != out.extensions.end()) continue;
      out.isa += '_';
      out.isa += implied;
      out.extensions.emplace_back(implied);
    }
  }
  return out;
}

boot::RiscvMmuType mmu_type(uint64_t satp_mode) {
  switch (satp_mode) {
    case kSatpModeSv48: return boot::RiscvMmuType::kSv48;
    case kSatpModeSv57: return boot::RiscvMmuType::kSv57;
    default: return boot::RiscvMmuType::kSv39;
  }
}

}  // namespace vmm::riscv64
