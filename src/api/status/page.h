// GET / on dapi's public server (issue 15 item 4): the status page. One self-contained HTML document (inline
// CSS and JS from page_assets.h, nothing loaded from elsewhere) whose first paint is rendered here from the
// /v1/status JSON (status_json.h), so it shows everything without JavaScript (a <noscript> meta refresh
// reloads it); with JavaScript it re-renders itself from GET /v1/status every kRefreshMs. Every string from
// the status (model ids, node ids, addresses, URLs, inference ids) is HTML-escaped (html.h).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace api::status {

// `status` has the shape of build_status(); missing or mistyped parts render as "–" rather than failing.
std::string render_page(const nlohmann::json& status);

}  // namespace api::status
