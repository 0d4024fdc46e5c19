// The status page's inline stylesheet and script (no external assets: the page works offline and loads
// nothing from elsewhere). The script fetches GET /v1/status every kRefreshMs and re-renders the page's
// sections with DOM text nodes only (textContent), so nothing from the chain is ever parsed as HTML.
#pragma once

#include <string_view>

namespace api::status {

inline constexpr int kRefreshMs = 3000;             // the script's refresh period
inline constexpr int kNoScriptRefreshSeconds = 10;  // <noscript> meta refresh

extern const std::string_view kPageStyle;
extern const std::string_view kPageScript;

}  // namespace api::status
