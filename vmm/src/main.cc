#include <cstdio>

int main() {
  std::puts("vmm: under construction");
  return 0;
}
