// merge_model_args (seed 000 §4.6, issue 11 item 6): the arguments an MLNode gets for `inference/up` are the
// epoch snapshot's model_args (authoritative, agreed on chain) plus the flags the operator added locally.
#pragma once

#include <string>
#include <vector>

namespace api::epoch {

// Merges the epoch model's args with the node's local args for the same model.
//
// Tokens are split into options: a key is a token starting with "--", or "-" followed by a letter ("-tp");
// "--k=v" is key "--k" with its value inside the token; otherwise the key's value is the next token when that
// token is not itself a key ("-1" and "0.9" are values). A token that follows no key is a stray value.
//
// Result: every epoch token, in its original order and form (stray epoch values are kept), then each local
// option whose key is not an epoch key, in its original form ("--k v" stays two tokens, "--k=v" one).
// On a conflict the epoch wins whatever the form ("--k=1" in the epoch drops a local "--k 2"); stray local
// values are dropped. Repeated local keys that the epoch does not set are all kept, in order.
std::vector<std::string> merge_model_args(const std::vector<std::string>& epoch_args,
                                          const std::vector<std::string>& local_args);

}  // namespace api::epoch
