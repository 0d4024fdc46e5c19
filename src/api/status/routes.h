// Registers the status page on dapi's public router (issue 15 item 4):
//   GET /           the HTML status page (page.h), text/html; no-store; a Content-Security-Policy that allows
//                   only its own inline style and script (by hash) and fetches to this origin
//   GET /v1/status  the JSON it refreshes itself from (status_json.h); no-store
#pragma once

#include "api/status/board.h"
#include "net/http.h"

namespace api::status {

// `board` must outlive the server that uses `router`.
void register_routes(net::Router& router, StatusBoard& board);

}  // namespace api::status
