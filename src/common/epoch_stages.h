// Epoch stage heights (ARCHITECTURE §7.1): one pure integer function shared by the chain (consensus) and
// dapi (which follows the chain block by block), so both agree on every boundary.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace common::epochs {

struct EpochParams {
  uint64_t epoch_length = 30;            // blocks from one PoC start to the next
  uint64_t epoch_shift = 0;              // the first PoC (epoch 1) starts at epoch_length - epoch_shift
  uint64_t poc_stage_duration = 6;       // nonce generation
  uint64_t poc_exchange_duration = 2;    // batches still accepted after generation ends
  uint64_t poc_validation_delay = 2;     // from end of generation to start of validation
  uint64_t poc_validation_duration = 5;  // validations accepted until its end
  uint64_t model_loading_duration = 4;   // from end of validation to the epoch switch (>= 1)
  uint64_t wind_down_percent = 80;       // generation/validation wind-down point, percent of the stage

  // Empty when valid; otherwise says which field is wrong and why.
  std::string validate() const;
  static std::optional<EpochParams> preset(std::string_view name);  // localnet | testnet | mainnet
};

// Absolute heights of one epoch's stages, all derived from its PoC start P.
struct EpochStages {
  uint64_t pre_poc_selection = 0;  // P-1: POC_SLOT selection in EndBlock
  uint64_t poc_start = 0;          // P
  uint64_t poc_wind_down = 0;
  uint64_t poc_end = 0;           // end of generation
  uint64_t poc_exchange_end = 0;  // last height accepting batches; window [P+1, poc_exchange_end]
  uint64_t validation_start = 0;
  uint64_t validation_wind_down = 0;
  uint64_t validation_end =
      0;  // formation of the next epoch group; window [validation_start+1, validation_end]
  uint64_t model_loading_start = 0;  // validation_end + 1
  uint64_t set_new_validators = 0;   // the epoch switch
  uint64_t settlement = 0;           // rewards of the finished epoch
  uint64_t next_poc_start = 0;
};

EpochStages compute_stages(const EpochParams& params, uint64_t poc_start);
// PoC start of epoch 1 (epoch 0 is the genesis epoch and runs no PoC).
uint64_t first_poc_start(const EpochParams& params);

enum class Phase {
  kInference,
  kPocGenerate,
  kPocGenerateWindDown,
  kPocValidate,
  kPocValidateWindDown,
  kModelLoading
};
std::string_view phase_name(Phase phase);
// Phase at height h for the epoch whose stages are given (h >= poc_start - 1 is expected; earlier =
// inference).
Phase phase_at(const EpochStages& stages, uint64_t height);

// The stage heights as one JSON object keyed by stage name (the chain's /inference/epoch query and dapi's
// /v1/status answer this shape; docs/epochs.md).
nlohmann::json stages_to_json(const EpochStages& s);

inline bool in_poc_batch_window(const EpochStages& s, uint64_t h) {
  return h > s.poc_start && h <= s.poc_exchange_end;
}
inline bool in_validation_window(const EpochStages& s, uint64_t h) {
  return h > s.validation_start && h <= s.validation_end;
}

}  // namespace common::epochs
