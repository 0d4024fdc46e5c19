// libFuzzer target for the ABCI frame reader (src/node/abci/frame.h).
//
// Input layout: byte 0 configures the run, the rest is the byte stream from "CometBFT".
//   bit 7 of byte 0 set   -> a tiny frame limit of 16 + (byte0 & 0x7f) bytes (exercises the limit check)
//   bit 7 clear           -> a 1 MiB limit
//   byte 0 also seeds the sizes of the pieces the stream is cut into.
// Properties checked (any violation aborts, which libFuzzer reports as a crash):
//   1. Feeding the stream at once or in pieces gives the same frames and the same final status and error.
//   2. No frame is larger than the limit; an error happens only once and sticks.
//   3. A frame re-encoded with encode_frame reads back as exactly one identical frame.
//   4. Every frame that parses as a tendermint.abci.Request re-serializes and parses again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "abci/types.pb.h"
#include "node/abci/frame.h"

namespace {

using node::abci::FrameReader;

struct Outcome {
  std::vector<std::string> frames;
  FrameReader::Status last = FrameReader::Status::kNeedMore;
  std::string error;
};

void check(bool ok) {
  if (!ok) std::abort();
}

void drain(FrameReader& reader, Outcome& out) {
  std::string frame;
  for (;;) {
    auto st = reader.next(frame);
    out.last = st;
    if (st != FrameReader::Status::kFrame) break;
    check(frame.size() <= reader.max_frame_bytes());
    out.frames.push_back(frame);
  }
  if (out.last == FrameReader::Status::kError) {
    check(!reader.error().empty());
    if (out.error.empty()) out.error = reader.error();
    check(out.error == reader.error());
  }
}

Outcome read_in_pieces(std::string_view stream, std::size_t limit, uint8_t seed, bool at_once) {
  FrameReader reader(limit);
  Outcome out;
  std::size_t off = 0;
  unsigned i = 0;
  while (off < stream.size()) {
    std::size_t n = at_once ? stream.size() : 1 + (seed + i * 31u) % 13u;
    n = std::min(n, stream.size() - off);
    reader.feed(stream.substr(off, n));
    off += n;
    ++i;
    drain(reader, out);
  }
  drain(reader, out);
  if (out.last == FrameReader::Status::kError) {
    // Sticky: more input changes nothing.
    reader.feed("\x00\x00");
    std::string f;
    check(reader.next(f) == FrameReader::Status::kError);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const uint8_t cfg = data[0];
  const std::size_t limit = (cfg & 0x80) ? 16 + (cfg & 0x7f) : std::size_t{1} << 20;
  std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);

  Outcome whole = read_in_pieces(stream, limit, cfg, true);
  Outcome pieces = read_in_pieces(stream, limit, cfg, false);
  check(whole.frames == pieces.frames);
  check(whole.last == pieces.last);
  check(whole.error == pieces.error);

  for (const auto& frame : whole.frames) {
    FrameReader again(limit);
    again.feed(node::abci::encode_frame(frame));
    std::string back;
    check(again.next(back) == FrameReader::Status::kFrame);
    check(back == frame);
    check(again.next(back) == FrameReader::Status::kNeedMore);

    tendermint::abci::Request req;
    if (req.ParseFromString(frame)) {
      tendermint::abci::Request req2;
      check(req2.ParseFromString(req.SerializeAsString()));
    }
  }
  return 0;
}
