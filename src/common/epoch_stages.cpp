#include "common/epoch_stages.h"

namespace common::epochs {

std::string EpochParams::validate() const {
  if (epoch_length == 0) return "epoch_length must be positive";
  if (epoch_shift >= epoch_length) return "epoch_shift must be smaller than epoch_length";
  if (epoch_length - epoch_shift < 2)
    return "the first PoC must start at height 2 or later (epoch_length - epoch_shift >= 2)";
  if (poc_stage_duration == 0) return "poc_stage_duration must be positive";
  if (poc_validation_duration == 0) return "poc_validation_duration must be positive";
  if (poc_validation_delay < poc_exchange_duration) {
    return "poc_validation_delay must be at least poc_exchange_duration (validation starts after the batch "
           "window)";
  }
  if (model_loading_duration == 0) return "model_loading_duration must be at least 1 block";
  if (wind_down_percent == 0 || wind_down_percent > 100) return "wind_down_percent must be in 1..100";
  // The whole PoC cycle plus settlement must fit before the next PoC start.
  uint64_t cycle =
      poc_stage_duration + poc_validation_delay + poc_validation_duration + model_loading_duration + 2;
  if (cycle >= epoch_length) {
    return "epoch_length (" + std::to_string(epoch_length) + ") must exceed the PoC cycle (" +
           std::to_string(cycle) +
           " blocks: generation + validation delay + validation + model loading + settlement)";
  }
  return "";
}

std::optional<EpochParams> EpochParams::preset(std::string_view name) {
  if (name == "localnet") return EpochParams{30, 20, 6, 2, 2, 5, 4, 80};
  if (name == "testnet") return EpochParams{50, 0, 4, 1, 1, 4, 2, 80};
  if (name == "mainnet") return EpochParams{17280, 16980, 60, 5, 5, 20, 120, 80};
  return std::nullopt;
}

uint64_t first_poc_start(const EpochParams& p) {
  return p.epoch_length - p.epoch_shift;
}

EpochStages compute_stages(const EpochParams& p, uint64_t poc_start) {
  EpochStages s;
  s.poc_start = poc_start;
  s.pre_poc_selection = poc_start == 0 ? 0 : poc_start - 1;
  s.poc_wind_down = poc_start + p.poc_stage_duration * p.wind_down_percent / 100;
  s.poc_end = poc_start + p.poc_stage_duration;
  s.poc_exchange_end = s.poc_end + p.poc_exchange_duration;
  s.validation_start = s.poc_end + p.poc_validation_delay;
  s.validation_wind_down = s.validation_start + p.poc_validation_duration * p.wind_down_percent / 100;
  s.validation_end = s.validation_start + p.poc_validation_duration;
  s.model_loading_start = s.validation_end + 1;
  s.set_new_validators = s.validation_end + p.model_loading_duration;
  s.settlement = s.set_new_validators + 1;
  s.next_poc_start = poc_start + p.epoch_length;
  return s;
}

std::string_view phase_name(Phase phase) {
  switch (phase) {
    case Phase::kInference:
      return "inference";
    case Phase::kPocGenerate:
      return "poc_generate";
    case Phase::kPocGenerateWindDown:
      return "poc_generate_wind_down";
    case Phase::kPocValidate:
      return "poc_validate";
    case Phase::kPocValidateWindDown:
      return "poc_validate_wind_down";
    case Phase::kModelLoading:
      return "model_loading";
  }
  return "inference";
}

Phase phase_at(const EpochStages& s, uint64_t h) {
  if (h < s.poc_start || h >= s.set_new_validators) return Phase::kInference;
  if (h < s.poc_wind_down) return Phase::kPocGenerate;
  if (h < s.validation_start) return Phase::kPocGenerateWindDown;
  if (h < s.validation_wind_down) return Phase::kPocValidate;
  if (h <= s.validation_end) return Phase::kPocValidateWindDown;
  return Phase::kModelLoading;
}

nlohmann::json stages_to_json(const EpochStages& s) {
  return {{"pre_poc_selection", s.pre_poc_selection},
          {"poc_start", s.poc_start},
          {"poc_wind_down", s.poc_wind_down},
          {"poc_end", s.poc_end},
          {"poc_exchange_end", s.poc_exchange_end},
          {"validation_start", s.validation_start},
          {"validation_wind_down", s.validation_wind_down},
          {"validation_end", s.validation_end},
          {"model_loading_start", s.model_loading_start},
          {"set_new_validators", s.set_new_validators},
          {"settlement", s.settlement},
          {"next_poc_start", s.next_poc_start}};
}

}  // namespace common::epochs
