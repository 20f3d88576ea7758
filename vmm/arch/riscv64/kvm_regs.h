// KVM_GET_ONE_REG / KVM_SET_ONE_REG ids of the riscv64 registers this VMM
// uses, and the KVM ISA-extension numbering. The values are uapi ABI
// (arch/riscv/include/uapi/asm/kvm.h); they are spelled out here because the
// cross toolchain's kernel headers (linux-libc-dev-riscv64-cross 6.1) predate
// most of them (satp_mode, the ISA extensions after zicbom), while the L1
// kernel we run on (6.12) offers them.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace vmm::riscv64 {

inline constexpr uint64_t kRegRiscv = 0x8000'0000'0000'0000ull;  // KVM_REG_RISCV
inline constexpr uint64_t kRegSizeU64 = 0x0030'0000'0000'0000ull;  // KVM_REG_SIZE_U64 (= unsigned long on rv64)
inline constexpr uint64_t kRegTypeShift = 24;
inline constexpr uint64_t kRegConfig = 0x01ull << kRegTypeShift;
inline constexpr uint64_t kRegCore = 0x02ull << kRegTypeShift;
inline constexpr uint64_t kRegTimer = 0x04ull << kRegTypeShift;
inline constexpr uint64_t kRegIsaExt = 0x07ull << kRegTypeShift;  // subtype 0: one register per extension
inline constexpr uint64_t kRegSbiExt = 0x08ull << kRegTypeShift;  // subtype 0: one register per extension

constexpr uint64_t reg_id(uint64_t type, uint64_t index) { return kRegRiscv | kRegSizeU64 | type | index; }

// struct kvm_riscv_config, in unsigned longs.
inline constexpr uint64_t kConfigIsa = reg_id(kRegConfig, 0);
inline constexpr uint64_t kConfigSatpMode = reg_id(kRegConfig, 6);
// struct kvm_riscv_core: user_regs_struct (pc, ra, sp, gp, tp, t0-t2, s0, s1, a0-a7, ...) then mode.
inline constexpr uint64_t kCorePc = reg_id(kRegCore, 0);
constexpr uint64_t core_a(unsigned n) { return reg_id(kRegCore, 10 + n); }
inline constexpr uint64_t kCoreMode = reg_id(kRegCore, 32);
inline constexpr uint64_t kModeSupervisor = 1;  // KVM_RISCV_MODE_S
// struct kvm_riscv_timer, in u64s.
inline constexpr uint64_t kTimerFrequency = reg_id(kRegTimer, 0);
constexpr uint64_t isa_ext_id(uint32_t ext) { return reg_id(kRegIsaExt, ext); }
// KVM_RISCV_SBI_EXT_ID: V01 0, TIME 1, IPI 2, RFENCE 3, SRST 4, HSM 5, PMU 6,
// EXPERIMENTAL 7, VENDOR 8, DBCN 9 (6.8+, off until user space enables it).
inline constexpr uint32_t kKvmSbiExtDbcn = 9;
constexpr uint64_t sbi_ext_id(uint32_t ext) { return reg_id(kRegSbiExt, ext); }

// satp MODE values the satp_mode config register reports.
inline constexpr uint64_t kSatpModeSv39 = 8, kSatpModeSv48 = 9, kSatpModeSv57 = 10;

// KVM_RISCV_ISA_EXT_* ids 0..6 are single letters (a c d f h i m), which the
// config isa bitmap reports too; the rest are multi-letter extensions.
inline constexpr uint32_t kIsaExtFirstMultiLetter = 7;
// The devicetree name ("zba", "sstc", ...) of KVM ISA extension `ext`, or
// nullopt for a single letter or an id newer than this table.
std::optional<std::string_view> isa_ext_name(uint32_t ext);
// One past the highest id isa_ext_name knows.
uint32_t isa_ext_count();

// SBI (RISC-V Supervisor Binary Interface) numbers for the calls KVM forwards.
inline constexpr uint64_t kSbiLegacyConsolePutchar = 0x01;
inline constexpr uint64_t kSbiLegacyConsoleGetchar = 0x02;
inline constexpr int64_t kSbiSuccess = 0;
inline constexpr int64_t kSbiErrFailed = -1;
inline constexpr int64_t kSbiErrNotSupported = -2;

}  // namespace vmm::riscv64
