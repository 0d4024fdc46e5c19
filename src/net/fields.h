// Conversion of Beast header fields to net::Headers (internal to net).
#pragma once

#include "net/asio.h"
#include "net/http.h"

namespace net {

// Names are lower-cased; repeated fields are joined with ", ".
Headers to_headers(const http::fields& fields);

}  // namespace net
