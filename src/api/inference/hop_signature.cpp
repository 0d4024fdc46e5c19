#include "api/inference/hop_signature.h"

#include <charconv>

#include "common/bytes.h"
#include "common/hash.h"

namespace api::inference {

namespace {

// Each field NUL-terminated; the body enters as its SHA-256.
std::string sign_hash(const char* tag, const std::string* inference_id, int64_t timestamp_ms,
                      const std::string& executor, const std::string& body) {
  std::string in = tag;
  in.push_back('\0');
  if (inference_id) in.append(*inference_id).push_back('\0');
  in.append(std::to_string(timestamp_ms)).push_back('\0');
  in.append(executor).push_back('\0');
  in.append(common::sha256(body));
  return common::sha256(in);
}

// Header values shared by both hops; `error` names the first malformed one.
bool read_common(const net::Request& req, ForwardHeaders& h, std::string& error) {
  h.transfer_agent = req.header(kHeaderTransferAgent);
  std::string ts = req.header(kHeaderTimestamp);
  std::string sig = req.header(kHeaderSignature);
  if (h.transfer_agent.empty() || h.transfer_agent.size() > 128) {
    error = "X-Transfer-Agent must be 1-128 characters";
    return false;
  }
  auto [p, ec] = std::from_chars(ts.data(), ts.data() + ts.size(), h.timestamp_ms);
  if (ts.empty() || ec != std::errc() || p != ts.data() + ts.size() || h.timestamp_ms <= 0) {
    error = "X-Timestamp must be unix milliseconds";
    return false;
  }
  auto raw = common::from_base64(sig);
  if (!raw || raw->size() != 64) {
    error = "X-TA-Signature must be a base64 64-byte secp256k1 signature";
    return false;
  }
  h.signature = std::string(raw->begin(), raw->end());
  return true;
}

std::string verify_hash(const ForwardHeaders& h, const std::string& ta_public_key33, const std::string& hash,
                        int64_t now_ms, std::chrono::milliseconds max_skew) {
  int64_t skew = now_ms > h.timestamp_ms ? now_ms - h.timestamp_ms : h.timestamp_ms - now_ms;
  if (skew > max_skew.count()) {
    return "X-Timestamp is " + std::to_string(skew) + " ms away from this executor's clock (at most " +
           std::to_string(max_skew.count()) + " ms)";
  }
  if (!common::secp256k1::is_valid_public_key(ta_public_key33))
    return "the transfer agent has no public key on chain";
  if (!common::secp256k1::verify(ta_public_key33, hash, h.signature)) {
    return "X-TA-Signature does not verify for transfer agent " + h.transfer_agent;
  }
  return "";
}

}  // namespace

std::string forward_sign_hash(const std::string& inference_id, int64_t timestamp_ms,
                              const std::string& executor, const std::string& body) {
  return sign_hash("dapi/forward/v1", &inference_id, timestamp_ms, executor, body);
}

std::string tokenize_sign_hash(int64_t timestamp_ms, const std::string& executor, const std::string& body) {
  return sign_hash("dapi/tokenize/v1", nullptr, timestamp_ms, executor, body);
}

net::Headers sign_tokenize(const common::secp256k1::PrivateKey& key, const std::string& transfer_agent,
                           int64_t timestamp_ms, const std::string& executor, const std::string& body) {
  std::string sig = common::secp256k1::sign(key, tokenize_sign_hash(timestamp_ms, executor, body));
  return {{kHeaderTransferAgent, transfer_agent},
          {kHeaderTimestamp, std::to_string(timestamp_ms)},
          {kHeaderSignature, common::to_base64(sig)}};
}

std::optional<ForwardHeaders> read_tokenize_headers(const net::Request& req, std::string& error) {
  error.clear();
  ForwardHeaders h;
  if (!read_common(req, h, error)) return std::nullopt;
  return h;
}

std::string verify_tokenize(const ForwardHeaders& h, const std::string& ta_public_key33,
                            const std::string& executor, const std::string& body, int64_t now_ms,
                            std::chrono::milliseconds max_skew) {
  return verify_hash(h, ta_public_key33, tokenize_sign_hash(h.timestamp_ms, executor, body), now_ms,
                     max_skew);
}

net::Headers sign_forward(const common::secp256k1::PrivateKey& key, const std::string& transfer_agent,
                          const std::string& inference_id, int64_t timestamp_ms, const std::string& executor,
                          const std::string& body) {
  std::string sig =
      common::secp256k1::sign(key, forward_sign_hash(inference_id, timestamp_ms, executor, body));
  return {{kHeaderInferenceId, inference_id},
          {kHeaderTransferAgent, transfer_agent},
          {kHeaderTimestamp, std::to_string(timestamp_ms)},
          {kHeaderSignature, common::to_base64(sig)}};
}

std::optional<ForwardHeaders> read_forward_headers(const net::Request& req, std::string& error) {
  error.clear();
  ForwardHeaders h;
  h.inference_id = req.header(kHeaderInferenceId);
  if (h.inference_id.empty()) return std::nullopt;
  if (h.inference_id.size() > 128) {
    error = "X-Inference-Id and X-Transfer-Agent must be 1-128 characters";
    return std::nullopt;
  }
  if (!read_common(req, h, error)) return std::nullopt;
  return h;
}

std::string verify_forward(const ForwardHeaders& h, const std::string& ta_public_key33,
                           const std::string& executor, const std::string& body, int64_t now_ms,
                           std::chrono::milliseconds max_skew) {
  return verify_hash(h, ta_public_key33, forward_sign_hash(h.inference_id, h.timestamp_ms, executor, body),
                     now_ms, max_skew);
}

}  // namespace api::inference
