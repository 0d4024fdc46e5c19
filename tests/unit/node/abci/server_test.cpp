// The socket server: ordering, Flush, pipelining, unix sockets, and clean failure on protocol errors.
#include "node/abci/server.h"

#include <atomic>
#include <filesystem>
#include <mutex>

#include <gtest/gtest.h>

#include "abci/types.pb.h"
#include "test_client.h"
#include "wire.h"

namespace node::abci {
namespace {

namespace ab = tendermint::abci;
using test::hex;
using test::TestClient;

// Echoes; "boom" throws like a broken app would.
class EchoHandler final : public RequestHandler {
 public:
  void handle(const ab::Request& req, ab::Response& res) override {
    ++calls;
    if (req.has_echo()) {
      if (req.echo().message() == "boom") throw std::runtime_error("the app broke");
      res.mutable_echo()->set_message(req.echo().message());
    } else if (req.has_info()) {
      res.mutable_info()->set_last_block_height(42);
    } else {
      res.mutable_exception()->set_error("unexpected request");
    }
  }
  std::atomic<int> calls{0};
};

struct Fixture {
  explicit Fixture(std::string address = "tcp://127.0.0.1:0") {
    ServerOptions o;
    o.address = std::move(address);
    o.max_frame_bytes = 4096;
    o.on_fatal = [this](const std::string& reason) {
      std::lock_guard lock(mu);
      fatal = reason;
    };
    server = std::make_unique<Server>(handler, o);
    server->start();
  }
  std::string fatal_reason() {
    std::lock_guard lock(mu);
    return fatal;
  }
  EchoHandler handler;
  std::mutex mu;
  std::string fatal;
  std::unique_ptr<Server> server;
};

ab::Request echo(const std::string& m) {
  ab::Request r;
  r.mutable_echo()->set_message(m);
  return r;
}

TEST(AbciServer, AnswersPipelinedRequestsInOrderEndingWithFlush) {
  Fixture f;
  auto c = TestClient::tcp(f.server->port());
  // Three echoes and a Flush in one write, as CometBFT's buffered writer sends them.
  std::string burst;
  for (const char* m : {"one", "two", "three"}) burst += encode_frame(echo(m).SerializeAsString());
  burst += hex("02 12 00");
  c.send_raw(burst);
  EXPECT_EQ(c.read().echo().message(), "one");
  EXPECT_EQ(c.read().echo().message(), "two");
  EXPECT_EQ(c.read().echo().message(), "three");
  // The Flush response is 1a 00, framed: 02 1a 00.
  EXPECT_EQ(c.read_frame(), hex("1a 00"));
}

TEST(AbciServer, HandlesRequestsArrivingByteByByte) {
  Fixture f;
  auto c = TestClient::tcp(f.server->port());
  std::string bytes = encode_frame(echo("slow").SerializeAsString()) + hex("02 12 00");
  for (char b : bytes) c.send_raw(std::string(1, b));
  EXPECT_EQ(c.read().echo().message(), "slow");
  EXPECT_TRUE(c.read().has_flush());
}

TEST(AbciServer, ServesFourConnectionsIndependently) {
  Fixture f;
  std::vector<TestClient> conns;
  for (int i = 0; i < 4; ++i) conns.push_back(TestClient::tcp(f.server->port()));
  for (int i = 0; i < 4; ++i) conns[i].send(echo("c" + std::to_string(i)));
  for (int i = 3; i >= 0; --i) {
    conns[i].send_flush();
    EXPECT_EQ(conns[i].read().echo().message(), "c" + std::to_string(i));
    EXPECT_TRUE(conns[i].read().has_flush());
  }
  EXPECT_EQ(f.server->open_connections(), 4u);
  EXPECT_TRUE(f.fatal_reason().empty());
}

TEST(AbciServer, ServesAUnixSocketAndReplacesAStaleSocketFile) {
  std::string path =
      (std::filesystem::temp_directory_path() / ("abci-test-" + std::to_string(::getpid()) + ".sock")).string();
  {
    Fixture first("unix://" + path);
    EXPECT_EQ(first.server->address(), "unix://" + path);
    auto c = TestClient::unix_socket(path);
    ab::Request info;
    info.mutable_info();
    EXPECT_EQ(c.call(info).info().last_block_height(), 42);
    // A second server on the same live socket is refused with a clear message.
    EchoHandler other;
    Server second(other, ServerOptions{"unix://" + path, 1, 1024, {}});
    try {
      second.start();
      ADD_FAILURE() << "expected the second server to fail";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("another process is listening"), std::string::npos) << e.what();
    }
  }
  EXPECT_FALSE(std::filesystem::exists(path));  // removed on stop
  // A socket file left by a crashed process is replaced.
  {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path.copy(addr.sun_path, sizeof addr.sun_path - 1);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::close(fd);  // file stays, nobody listens
  }
  Fixture again("unix://" + path);
  auto c = TestClient::unix_socket(path);
  EXPECT_EQ(c.call(echo("back")).echo().message(), "back");
}

TEST(AbciServer, ClosesTheConnectionOnABadLengthPrefix) {
  Fixture f;
  auto c = TestClient::tcp(f.server->port());
  EXPECT_EQ(c.call(echo("hello")).echo().message(), "hello");  // a CometBFT connection
  c.send_raw(hex("ff ff ff ff ff ff ff ff ff 02"));
  EXPECT_TRUE(c.closed_by_server());
  EXPECT_NE(f.fatal_reason().find("ABCI protocol error on connection 1"), std::string::npos) << f.fatal_reason();
  EXPECT_NE(f.fatal_reason().find("overflows 64 bits"), std::string::npos) << f.fatal_reason();
}

TEST(AbciServer, ClosesTheConnectionOnAnOversizedFrame) {
  Fixture f;  // limit 4096
  auto c = TestClient::tcp(f.server->port());
  EXPECT_EQ(c.call(echo("hello")).echo().message(), "hello");  // a CometBFT connection
  c.send_raw(hex("81 20"));  // 4097
  EXPECT_TRUE(c.closed_by_server());
  EXPECT_NE(f.fatal_reason().find("frame of 4097 bytes exceeds the limit of 4096 bytes"), std::string::npos);
}

TEST(AbciServer, ClosesTheConnectionOnAnUnknownRequest) {
  Fixture f;
  auto c = TestClient::tcp(f.server->port());
  // Field 9 was DeliverTx in ABCI 1.0 (removed in 2.0): 4a 00, framed 02 4a 00.
  EXPECT_EQ(c.call(echo("hello")).echo().message(), "hello");  // a CometBFT connection
  c.send_raw(hex("02 4a 00 02 12 00"));
  EXPECT_TRUE(c.closed_by_server());
  EXPECT_NE(f.fatal_reason().find("request of unknown type (frame starts with 4a00)"), std::string::npos)
      << f.fatal_reason();
  EXPECT_EQ(f.handler.calls, 1);  // only the echo
}

TEST(AbciServer, ClosesTheConnectionOnAFrameThatIsNotProtobuf) {
  Fixture f;
  auto c = TestClient::tcp(f.server->port());
  EXPECT_EQ(c.call(echo("hello")).echo().message(), "hello");  // a CometBFT connection
  c.send_raw(hex("02 ff ff"));  // field 31 with the invalid wire type 7
  EXPECT_TRUE(c.closed_by_server());
  EXPECT_NE(f.fatal_reason().find("is not an ABCI Request"), std::string::npos) << f.fatal_reason();
}

TEST(AbciServer, ClosesAStrangerSendingGarbageButKeepsRunning) {
  Fixture f;
  auto cometbft = TestClient::tcp(f.server->port());
  EXPECT_EQ(cometbft.call(echo("first")).echo().message(), "first");
  auto stranger = TestClient::tcp(f.server->port());
  stranger.send_raw("GET / HTTP/1.1\r\n\r\n");  // 'G' = 0x47 announces a 71-byte frame of "ET / HTTP..."
  stranger.send_raw(std::string(80, 'x'));
  EXPECT_TRUE(stranger.closed_by_server());
  EXPECT_TRUE(f.fatal_reason().empty());
  EXPECT_EQ(cometbft.call(echo("still fine")).echo().message(), "still fine");
}

TEST(AbciServer, SendsAnExceptionThenClosesWhenTheAppThrows) {
  Fixture f;
  auto c = TestClient::tcp(f.server->port());
  c.send(echo("fine"));
  c.send(echo("boom"));
  c.send(echo("never answered"));
  c.send_flush();
  EXPECT_EQ(c.read().echo().message(), "fine");
  auto res = c.read();
  ASSERT_TRUE(res.has_exception());
  EXPECT_EQ(res.exception().error(), "the app broke");
  EXPECT_TRUE(c.closed_by_server());
  EXPECT_NE(f.fatal_reason().find("the app broke"), std::string::npos);
}

TEST(AbciServer, KeepsServingOtherConnectionsWhenOneCloses) {
  Fixture f;
  {
    auto gone = TestClient::tcp(f.server->port());
    gone.send(echo("half"));  // the peer leaves without reading the answer
  }
  auto c = TestClient::tcp(f.server->port());
  EXPECT_EQ(c.call(echo("still here")).echo().message(), "still here");
  EXPECT_TRUE(f.fatal_reason().empty());
}

TEST(AbciServer, RefusesAnAddressInUse) {
  Fixture f;
  EchoHandler other;
  Server second(other, ServerOptions{"tcp://127.0.0.1:" + std::to_string(f.server->port()), 1, 1024, {}});
  try {
    second.start();
    ADD_FAILURE() << "expected bind to fail";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot listen for CometBFT on tcp://127.0.0.1:"), std::string::npos);
  }
}

TEST(AbciListenAddress, ParsesCometBftProxyAppForms) {
  std::string err;
  auto a = parse_listen_address("tcp://127.0.0.1:26658", err);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->kind, ListenAddress::Kind::kTcp);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 26658);
  auto b = parse_listen_address("0.0.0.0:1", err);  // no scheme means tcp
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "0.0.0.0");
  auto c = parse_listen_address("unix:///run/app.sock", err);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kind, ListenAddress::Kind::kUnix);
  EXPECT_EQ(c->path, "/run/app.sock");
  auto d = parse_listen_address("tcp://[::1]:9", err);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->host, "::1");
  EXPECT_FALSE(parse_listen_address("grpc://x:1", err));
  EXPECT_FALSE(parse_listen_address("tcp://host", err));
  EXPECT_FALSE(parse_listen_address("tcp://host:70000", err));
  EXPECT_FALSE(parse_listen_address("unix://", err));
}

}  // namespace
}  // namespace node::abci
