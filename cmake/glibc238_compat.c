/* The glibc 2.38 symbols trixie's libglib-2.0.a (built against glibc 2.41)
 * calls, for a static riscv64 link against the cross compiler's glibc 2.36
 * (docs/cross.md says why the sysroot's own glibc cannot be used). The C23
 * strto* variants differ from the classic ones only in also taking a "0b"
 * binary prefix, which glib never relies on for what it parses here. */
#define _GNU_SOURCE
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long __isoc23_strtol(const char* s, char** end, int base) { return strtol(s, end, base); }
unsigned long __isoc23_strtoul(const char* s, char** end, int base) { return strtoul(s, end, base); }
long long __isoc23_strtoll_l(const char* s, char** end, int base, locale_t l) { return strtoll_l(s, end, base, l); }
unsigned long long __isoc23_strtoull_l(const char* s, char** end, int base, locale_t l) {
  return strtoull_l(s, end, base, l);
}
int __isoc23_fscanf(FILE* f, const char* format, ...) {
  va_list ap;
  va_start(ap, format);
  int r = vfscanf(f, format, ap);
  va_end(ap);
  return r;
}
size_t strlcpy(char* dst, const char* src, size_t size) {
  const size_t n = strlen(src);
  if (size > 0) {
    const size_t k = n < size - 1 ? n : size - 1;
    memcpy(dst, src, k);
    dst[k] = '\0';
  }
  return n;
}
size_t strlcat(char* dst, const char* src, size_t size) {
  const size_t d = strnlen(dst, size);
  if (d == size) return size + strlen(src);
  return d + strlcpy(dst + d, src, size - d);
}
