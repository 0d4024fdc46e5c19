// HTML escaping for the status page (src/api/status/page.h). Everything the page shows that comes from the
// chain or from strangers (model ids, participant URLs, node ids, addresses) goes through html_escape before
// it is written into HTML text or a double- or single-quoted attribute value.
#pragma once

#include <string>
#include <string_view>

namespace api::status {

// `&`, `<`, `>`, `"` and `'` replaced by their character references; every other byte is kept as is (the page
// is UTF-8; invalid UTF-8 stays inert text because no markup character survives).
std::string html_escape(std::string_view text);

}  // namespace api::status
