// inferenced's keyring is the shared file keyring of src/common (dapi reads the same format).
#pragma once

#include "common/keyring.h"

namespace node {
using common::KeyInfo;
using common::Keyring;
}  // namespace node
