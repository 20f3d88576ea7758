// boot/ reuses the loader's error type rather than defining a parallel one:
// most boot errors come straight out of GuestMemory (a loader::Result), and a
// single type lets them travel up without conversion. These aliases give the
// boot library its own spelling of the same thing.
#pragma once

#include "loader/error.h"

namespace boot {

using loader::Error;
using loader::ErrorCode;
using loader::fail;
using loader::Result;
using loader::with_context;

}  // namespace boot
