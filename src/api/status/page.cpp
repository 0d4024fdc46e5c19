#include "api/status/page.h"

#include <ctime>
#include <string_view>
#include <vector>

#include "api/status/html.h"
#include "api/status/page_assets.h"

namespace api::status {
namespace {

using nlohmann::json;

const json& at(const json& j, const char* key) {
  static const json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

const json& list_at(const json& j, const char* key) {
  static const json kEmpty = json::array();
  const json& v = at(j, key);
  return v.is_array() ? v : kEmpty;
}

// The text of a scalar JSON value ("–" for null or anything else), not yet escaped.
std::string show(const json& v) {
  if (v.is_string()) return v.get<std::string>().empty() ? "\u2013" : v.get<std::string>();
  if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  return "\u2013";
}

// A count: a non-negative integer (nlohmann keeps in-process integers signed, parsed ones unsigned).
bool is_count(const json& v) {
  return v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0);
}
uint64_t u64(const json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  return is_count(v) ? static_cast<uint64_t>(v.get<int64_t>()) : 0;
}

std::string utc(int64_t ms) {
  if (ms <= 0) return "";
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string share(uint64_t weight, uint64_t total) {
  if (total == 0) return "";
  auto p = static_cast<uint64_t>(static_cast<double>(weight) * 1000.0 /
                                 static_cast<double>(total));  // display only
  return std::to_string(p / 10) + "." + std::to_string(p % 10) + " %";
}

std::string td(std::string_view cls, std::string_view text_escaped) {
  std::string out = "<td";
  if (!cls.empty()) out += " class=\"" + std::string(cls) + "\"";
  return out + ">" + std::string(text_escaped) + "</td>";
}

std::string td_text(std::string_view cls, const std::string& raw) {
  return td(cls, html_escape(raw));
}

std::string badge(const std::string& cls, const std::string& raw) {
  return "<span class=\"badge " + html_escape(cls) + "\">" + html_escape(raw) + "</span>";
}

std::string empty_row(std::string_view text, int cols) {
  return "<tr><td class=\"empty\" colspan=\"" + std::to_string(cols) + "\">" + std::string(text) +
         "</td></tr>";
}

constexpr const char* kStages[] = {
    "pre_poc_selection",   "poc_start",          "poc_wind_down",        "poc_end",
    "poc_exchange_end",    "validation_start",   "validation_wind_down", "validation_end",
    "model_loading_start", "set_new_validators", "settlement",           "next_poc_start"};

std::string stage_rows(const json& epoch, const json& height) {
  if (!epoch.is_object()) return empty_row("no epoch read yet", 3);
  const json& stages = at(epoch, "stages");
  bool have_height = is_count(height);
  uint64_t h = u64(height);
  bool next_marked = false;
  std::string out;
  for (const char* name : kStages) {
    uint64_t s = u64(at(stages, name));
    std::string cls, left;
    if (have_height && s <= h) {
      cls = "stage-done";
    } else {
      if (!next_marked) cls = "stage-next", next_marked = true;
      if (have_height) left = "in " + std::to_string(s - h) + " blocks";
    }
    out += "<tr data-stage=\"" + std::string(name) + "\" class=\"" + cls + "\">" + td_text("", name) +
           td("num height", std::to_string(s)) + td_text("", left) + "</tr>";
  }
  return out;
}

std::string node_rows(const json& nodes) {
  if (nodes.empty()) return empty_row("no nodes configured", 9);
  std::string out;
  for (const auto& n : nodes) {
    bool pre = false, poc = false;
    for (const auto& m : list_at(n, "epoch_ml_nodes")) {
      pre = pre || (at(m, "pre_poc_slot").is_boolean() && at(m, "pre_poc_slot").get<bool>());
      poc = poc || (at(m, "poc_slot").is_boolean() && at(m, "poc_slot").get<bool>());
    }
    std::string status = show(at(n, "status"));
    bool enabled = !at(n, "enabled").is_boolean() || at(n, "enabled").get<bool>();
    std::string models;
    for (const auto& m : list_at(n, "models")) models += (models.empty() ? "" : ", ") + show(m);
    out += "<tr data-node-id=\"" + html_escape(show(at(n, "id"))) + "\">" +
           td_text("mono", show(at(n, "id"))) +
           td("status", badge("st-" + status, status + (enabled ? "" : " (disabled)"))) +
           td_text("intent", show(at(n, "intent"))) + td_text("model mono", show(at(n, "model"))) +
           td_text("models mono", models) + td_text("version", show(at(n, "mlnode_version"))) +
           td("timeslots",
              badge(pre ? "slot-on" : "slot-off", "PRE_POC") + badge(poc ? "slot-on" : "slot-off", "POC")) +
           td_text("num weight", show(at(n, "weight"))) +
           td_text("healthy", at(n, "healthy").is_boolean() && at(n, "healthy").get<bool>() ? "yes" : "no") +
           "</tr>";
  }
  return out;
}

std::string participant_rows(const json& p) {
  const json& members = list_at(p, "members");
  if (members.empty()) return empty_row("no epoch group read yet", 4);
  uint64_t total = u64(at(p, "total_weight"));
  std::string out;
  for (const auto& m : members) {
    std::string address = show(at(m, "address"));
    bool self = at(m, "is_self").is_boolean() && at(m, "is_self").get<bool>();
    out += "<tr data-address=\"" + html_escape(address) + "\">" +
           td("address", "<code>" + html_escape(address) + "</code>" +
                             (self ? " " + badge("you", "this participant") : "")) +
           td_text("num weight", show(at(m, "weight"))) +
           td_text("num share", share(u64(at(m, "weight")), total)) +
           td_text("url mono", show(at(m, "url"))) + "</tr>";
  }
  return out;
}

std::string inference_rows(const json& list, const std::string& denom) {
  if (list.empty()) return empty_row("no inference finished since this dapi started following the chain", 7);
  std::string out;
  for (const auto& i : list) {
    std::string executor = at(i, "executor").is_string() ? at(i, "executor").get<std::string>() : "";
    std::string node = at(i, "executor_node").is_string() ? at(i, "executor_node").get<std::string>() : "";
    if (!executor.empty() && !node.empty()) executor += " / " + node;
    out += "<tr data-inference-id=\"" + html_escape(show(at(i, "id"))) + "\">" +
           td_text("num height", show(at(i, "height"))) + td_text("id mono", show(at(i, "id"))) +
           td_text("model mono", show(at(i, "model"))) +
           td_text("executor mono", executor.empty() ? "\u2013" : executor) +
           td_text("num tokens", show(at(i, "tokens"))) +
           td_text("num cost", show(at(i, "cost")) + " " + denom) +
           td_text("validation", show(at(i, "validation"))) + "</tr>";
  }
  return out;
}

}  // namespace

std::string render_page(const json& s) {
  const json& block = at(s, "block");
  const json& height = at(block, "height");
  const json& epoch = at(s, "epoch");
  const json& participants = at(s, "participants");
  std::string denom = show(at(s, "denom"));
  std::string phase = epoch.is_object() ? show(at(epoch, "phase")) : "\u2013";
  const json& upcoming = at(epoch, "upcoming_epoch_index");
  std::string block_time =
      block.is_object()
          ? utc(at(block, "time_unix_ms").is_number_integer() ? at(block, "time_unix_ms").get<int64_t>() : 0)
          : "no block followed yet";
  std::string error = at(participants, "error").is_string()
                          ? "chain not readable: " + at(participants, "error").get<std::string>()
                          : "";

  std::string h;
  h.reserve(16384);
  h += "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
       "<title>dapi status</title>"
       "<noscript><meta http-equiv=\"refresh\" content=\"" +
       std::to_string(kNoScriptRefreshSeconds) +
       "\"></noscript>"
       "<style>" +
       std::string(kPageStyle) + "</style></head>\n";
  h += "<body data-refresh-ms=\"" + std::to_string(kRefreshMs) + "\" data-refreshes=\"0\">\n";
  h += "<header><h1>dapi status</h1><div>participant <code id=\"participant\">" +
       html_escape(show(at(s, "participant"))) +
       "</code></div><div id=\"live\">server-rendered</div></header>\n<main>\n";
  h += "<section class=\"cards\">"
       "<div class=\"card\"><div class=\"label\">Block height</div><div class=\"value\" id=\"height\">" +
       html_escape(is_count(height) ? show(height) : "\u2013") +
       "</div><div class=\"hint\" id=\"block-time\">" + html_escape(block_time) +
       "</div></div>"
       "<div class=\"card\"><div class=\"label\">Epoch</div><div class=\"value\" id=\"epoch-index\">" +
       html_escape(show(at(epoch, "epoch_index"))) + "</div><div class=\"hint\" id=\"upcoming\">" +
       (is_count(upcoming) ? "epoch " + show(upcoming) + " forming" : "") +
       "</div></div>"
       "<div class=\"card\"><div class=\"label\">Phase</div><div class=\"value\">"
       "<span id=\"phase\" class=\"badge ph-" +
       html_escape(phase) + "\">" + html_escape(phase) +
       "</span></div></div>"
       "<div class=\"card\"><div class=\"label\">MLNode version</div><div class=\"value\" "
       "id=\"mlnode-version\">" +
       html_escape(show(at(s, "mlnode_version"))) + "</div></div></section>\n";
  h += "<section class=\"panel\"><h2>Stage heights of the epoch</h2><table "
       "id=\"stages\"><thead><tr><th>stage</th>"
       "<th class=\"num\">height</th><th></th></tr></thead><tbody id=\"stages-body\">" +
       stage_rows(epoch, height) + "</tbody></table></section>\n";
  h +=
      "<section class=\"panel\"><h2>This participant's nodes</h2><table id=\"nodes\"><thead><tr><th>node</th>"
      "<th>state</th><th>intent</th><th>model</th><th>declared models</th><th>MLNode "
      "version</th><th>timeslots</th>"
      "<th class=\"num\">weight</th><th>healthy</th></tr></thead><tbody id=\"nodes-body\">" +
      node_rows(list_at(s, "nodes")) + "</tbody></table></section>\n";
  h += "<section class=\"panel\"><h2>Participants of epoch <span id=\"participants-epoch\">" +
       html_escape(show(at(participants, "epoch_index"))) +
       "</span> \u00b7 total weight <span id=\"participants-total\">" +
       html_escape(show(at(participants, "total_weight"))) +
       "</span></h2><p class=\"error\" id=\"participants-error\">" + html_escape(error) +
       "</p><table id=\"participants\"><thead><tr><th>address</th><th class=\"num\">weight</th>"
       "<th class=\"num\">share</th><th>public URL</th></tr></thead><tbody id=\"participants-body\">" +
       participant_rows(participants) + "</tbody></table></section>\n";
  h += "<section class=\"panel\"><h2>Last inferences</h2><table id=\"inferences\"><thead><tr>"
       "<th class=\"num\">height</th><th>inference</th><th>model</th><th>executor / node</th>"
       "<th class=\"num\">tokens</th><th class=\"num\">cost</th><th>validation</th></tr></thead>"
       "<tbody id=\"inferences-body\">" +
       inference_rows(list_at(s, "inferences"), denom) + "</tbody></table></section>\n";
  h += "</main>\n<footer>JSON: <a href=\"v1/status\">/v1/status</a> \u00b7 refreshes every " +
       std::to_string(kRefreshMs / 1000) + " s</footer>\n<script>" + std::string(kPageScript) +
       "</script>\n</body></html>\n";
  return h;
}

}  // namespace api::status
