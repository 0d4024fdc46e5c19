// What the socket server calls for each decoded request. The server owns framing, ordering and Flush;
// a handler only maps one request to one response.
#pragma once

namespace tendermint::abci {
class Request;
class Response;
}  // namespace tendermint::abci

namespace node::abci {

class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  // Fills `response` with the response of the same kind. Flush never reaches the handler. Setting
  // `response.exception` tells CometBFT the app is broken: the server sends it and shuts the connection.
  virtual void handle(const tendermint::abci::Request& request, tendermint::abci::Response& response) = 0;
};

}  // namespace node::abci
