// Parsing inferenced's JSON answers into api::chain types. Errors name the missing or malformed field,
// e.g. `GET /status: field "height" must be a non-negative integer`.
#pragma once

#include <string>

#include "api/chain/types.h"
#include "common/result.h"

namespace api::chain {

// Error code of an answer that is not the JSON the client expects.
inline constexpr uint32_t kMalformedAnswer = 1000003;

common::Result<ChainStatus> parse_status(const std::string& body);
common::Result<Block> parse_block(const std::string& body);
common::Result<TxResult> parse_tx_result(const std::string& body);
common::Result<EpochInfo> parse_epoch(const std::string& body);
common::Result<EpochGroup> parse_epoch_group(const std::string& body);
common::Result<std::vector<GovernanceModel>> parse_governance_models(const std::string& body);
common::Result<MLNodeVersion> parse_mlnode_version(const std::string& body);
common::Result<Participant> parse_participant(const std::string& body);
common::Result<std::vector<HardwareNode>> parse_hardware_nodes(const std::string& body);
common::Result<Account> parse_account(const std::string& body);
// The "batches" of a /inference/poc-batches answer; each batch's nonces and dist must have the same length.
common::Result<std::vector<PocBatch>> parse_poc_batches(const std::string& body);
// The amount of `denom` in a /bank/balances answer; 0 when the account holds none.
common::Result<uint64_t> parse_balance(const std::string& body, const std::string& denom);
common::Result<BroadcastResult> parse_broadcast(const std::string& body);

}  // namespace api::chain
