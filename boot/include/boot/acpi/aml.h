// A small AML (ACPI Machine Language) emitter: just the terms a DSDT needs to
// describe legacy devices (Device, Name, _HID/_UID/_STA/_CRS, ResourceTemplate
// with IO and IRQNoFlags). Emitting AML in C++ rather than compiling ASL with
// iasl at build time keeps the build free of an extra tool, and lets the
// tables depend on run-time values (CPU count, device list); iasl is still
// used by the tests, to disassemble what we emit.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace boot::aml {

using Bytes = std::vector<uint8_t>;

// A 4-character NameSeg ("COM1", "_HID"); shorter names are padded with '_'.
Bytes name_seg(std::string_view name);
// Integer constant in its smallest encoding (Zero, One, Byte/Word/DWord/QWordPrefix).
Bytes integer(uint64_t value);
// Null-terminated ASCII string (StringPrefix).
Bytes string(std::string_view text);
// EISA ID ("PNP0501") compressed to its 32-bit form, as an integer.
Bytes eisa_id(std::string_view id);
// Buffer with the given contents (BufferOp, PkgLength, size, bytes).
Bytes buffer(const Bytes& contents);
// Package of elements (PackageOp).
Bytes package(const std::vector<Bytes>& elements);
// Name(name, value)
Bytes name(std::string_view name, const Bytes& value);
// Device(name) { body... }
Bytes device(std::string_view name, const std::vector<Bytes>& body);
// Scope(path) { body... }; path like "\\_SB_" or "\\".
Bytes scope(std::string_view path, const std::vector<Bytes>& body);
// Method(name, 0 args, NotSerialized) { Return(value) }
Bytes method_return(std::string_view name, const Bytes& value);

// Resource descriptors, concatenated into a ResourceTemplate buffer.
Bytes io_port(uint16_t min, uint16_t max, uint8_t alignment, uint8_t length);  // IO(Decode16, ...)
Bytes irq_no_flags(uint16_t irq_mask);  // IRQNoFlags() {irqs}: edge, active high, exclusive
// Memory32Fixed(ReadWrite or ReadOnly, base, length)
Bytes memory32_fixed(uint32_t base, uint32_t length, bool writeable = true);
// Interrupt(ResourceConsumer, Level|Edge, ActiveHigh, Exclusive) { gsi }: the
// extended descriptor, since IRQ() cannot name GSIs above 15.
Bytes extended_interrupt(uint32_t gsi, bool level);
// The address space descriptors a host bridge's _CRS produces (ResourceProducer,
// MinFixed, MaxFixed, PosDecode, no translation): bus numbers and memory windows.
Bytes word_bus_number(uint16_t min, uint16_t max);
Bytes dword_memory(uint32_t base, uint32_t length, bool prefetchable);
Bytes qword_memory(uint64_t base, uint64_t length, bool prefetchable);
// ResourceTemplate() { descriptors... } with the End Tag and its checksum byte.
Bytes resource_template(const std::vector<Bytes>& descriptors);

// PkgLength encoding of `length` bytes following it (including itself).
Bytes pkg_length(size_t body_length);

}  // namespace boot::aml
