#include "vmm/exit_codes.h"
