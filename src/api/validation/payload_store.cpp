#include "api/validation/payload_store.h"

#include "common/log.h"

namespace api::validation {

using nlohmann::json;

namespace {
constexpr const char* kPayloadPrefix = "validation/payload/";
constexpr const char* kAtPrefix = "validation/payload_at/";
}  // namespace

std::string PayloadStore::key(const std::string& inference_id) {
  return kPayloadPrefix + inference_id;
}

PayloadStore::PayloadStore(state::StateStore& store, OutputFault fault) : store_(store), fault_(fault) {}

std::unique_ptr<PayloadRecording> PayloadStore::begin(const std::string& inference_id,
                                                      json& mlnode_body) const {
  if (!on_ && fault_ == OutputFault::kNone) return nullptr;
  return std::make_unique<PayloadRecording>(inference_id, mlnode_body, fault_);
}

void PayloadStore::record(const PayloadRecording& recording, const json& mlnode_body) {
  if (!on_) return;
  Payload p = recording.payload(mlnode_body, height_);
  if (!recording.logprobs_ok())
    spdlog::warn("inference {}: the MLNode's logprobs were malformed; the payload has none", p.inference_id);
  state::WriteSet ws;
  ws.put(key(p.inference_id), payload_to_json(p).dump(-1, ' ', false, json::error_handler_t::replace));
  ws.put(kAtPrefix + state::encode_u64(p.recorded_height) + p.inference_id, "");
  if (auto st = store_.write(ws); !st)
    spdlog::error("inference {}: cannot store the validation payload: {}", p.inference_id,
                  st.error().message);
}

std::optional<Payload> PayloadStore::get(const std::string& inference_id) const {
  auto v = store_.get(key(inference_id));
  if (!v) return std::nullopt;
  json j = json::parse(*v, nullptr, false);
  return payload_from_json(j);
}

std::size_t PayloadStore::prune(uint64_t height) {
  uint64_t keep = keep_blocks_;
  if (height <= keep) return 0;
  uint64_t below = height - keep;
  state::WriteSet ws;
  std::size_t n = 0;
  const std::string prefix = kAtPrefix;
  for (const auto& [k, _] : store_.scan(prefix)) {
    if (k.size() < prefix.size() + 8) continue;
    auto h = state::decode_u64(k.substr(prefix.size(), 8));
    if (!h || *h >= below) break;  // key order = height order
    ws.erase(k);
    ws.erase(key(k.substr(prefix.size() + 8)));
    ++n;
  }
  if (!ws.empty()) {
    if (auto st = store_.write(ws); !st) {
      spdlog::error("cannot prune validation payloads: {}", st.error().message);
      return 0;
    }
  }
  return n;
}

void PayloadStore::set_chain(uint64_t height, bool validation_on, uint64_t expiration_blocks,
                             uint64_t epoch_length) {
  height_ = height;
  on_ = validation_on;
  keep_blocks_ = 2 * expiration_blocks + epoch_length + 10;
}

}  // namespace api::validation
