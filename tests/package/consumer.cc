// Inspects the kernel named on the command line through the installed library.
#include <cstdio>

#include "loader/image_source.h"
#include "loader/kernel_loader.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  auto src = loader::FileImageSource::open(argv[1]);
  if (!src) return 3;
  auto info = loader::inspect_kernel(*src);
  if (!info) {
    std::printf("%s\n", info.error().message.c_str());
    return 1;
  }
  std::printf("%s %s\n", std::string(loader::to_string(info->format)).c_str(),
              std::string(loader::to_string(info->arch)).c_str());
  return 0;
}
