// The bridge from the parsed command line (cli.h) to the VMM (run.h).
#pragma once

#include "vmm/cli.h"
#include "vmm/run.h"

namespace vmm {

// --cmdline defaults to "console=ttyS0" so the guest talks to our UART.
RunConfig run_config_from(const Options& options);

}  // namespace vmm
