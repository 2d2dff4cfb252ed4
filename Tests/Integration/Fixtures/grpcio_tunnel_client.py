"""A tunnel client written only from proto/hopgate/tunnel/v1/tunnel.proto with Python's grpcio:
the proof that any gRPC implementation can speak the tunnel protocol on the shared HTTPS port
(grpcio offers ALPN `h2` only, never `grpc-exp`).

Usage: grpcio_tunnel_client.py STUBS_DIR PORT CA_FILE SERVER_NAME DOMAIN KEY
  STUBS_DIR holds tunnel_pb2.py and tunnel_pb2_grpc.py, generated in the test by
  `python -m grpc_tools.protoc -I proto --python_out=STUBS_DIR --grpc_python_out=STUBS_DIR …`.

Says hello on Control; when welcomed, parks one Exchange stream and prints READY; answers the
first request that comes on it with 200 and the body "served by grpcio <path>"; then prints one
JSON line: {"welcome": …, "request": …, "exchange_status": …} and exits. A refused hello prints
{"refused": STATUS_NAME, "details": …}.
"""
import json
import os
import queue
import sys
import threading

stubs, port, ca_file, server_name, domain, key = sys.argv[1:7]
sys.path.insert(0, stubs)
sys.path.insert(0, os.path.join(stubs, "hopgate", "tunnel", "v1"))

import grpc  # noqa: E402

try:
    from hopgate.tunnel.v1 import tunnel_pb2 as pb, tunnel_pb2_grpc as rpc  # noqa: E402
except ImportError:
    import tunnel_pb2 as pb  # noqa: E402
    import tunnel_pb2_grpc as rpc  # noqa: E402


def requests(first, outbox):
    """A request stream: `first`, then whatever is put in `outbox` until None."""
    yield first
    while True:
        message = outbox.get()
        if message is None:
            return
        yield message


credentials = grpc.ssl_channel_credentials(root_certificates=open(ca_file, "rb").read())
channel = grpc.secure_channel("127.0.0.1:%s" % port, credentials, options=[("grpc.ssl_target_name_override", server_name)])
stub = rpc.TunnelStub(channel)

control_out = queue.Queue()
hello = pb.ControlFromClient(hello=pb.Hello(domain=domain, client_api_key=key, client_name="grpcio-test", client_version="1"))
control = stub.Control(requests(hello, control_out))
try:
    first = next(control)
except grpc.RpcError as error:
    print(json.dumps({"refused": error.code().name, "details": error.details()}), flush=True)
    sys.exit(0)
welcome = first.welcome
# Keep reading control messages (heartbeats) so the stream's window never fills.
threading.Thread(target=lambda: [None for _ in control], daemon=True).start()

exchange_out = queue.Queue()
attach = pb.ExchangeFromClient(attach=pb.Attach(tunnel_id=welcome.tunnel_id, exchange_token=welcome.exchange_token))
exchange = stub.Exchange(requests(attach, exchange_out))
print("READY", flush=True)

request = {}
status = None
try:
    for message in exchange:
        kind = message.WhichOneof("kind")
        if kind == "head":
            request = {"method": message.head.method, "path": message.head.path,
                       "headers": {h.name.lower(): h.value.decode() for h in message.head.headers}}
        elif kind == "end":
            body = ("served by grpcio %s" % request.get("path")).encode()
            exchange_out.put(pb.ExchangeFromClient(head=pb.ResponseHead(
                status=200, headers=[pb.Header(name="content-type", value=b"text/plain"),
                                     pb.Header(name="content-length", value=str(len(body)).encode())])))
            exchange_out.put(pb.ExchangeFromClient(body=pb.BodyChunk(data=body)))
            exchange_out.put(pb.ExchangeFromClient(end=pb.End()))
            exchange_out.put(None)  # half-close: the server sends its status after this
    status = "OK"
except grpc.RpcError as error:
    status = error.code().name

print(json.dumps({"welcome": {"tunnel_id": welcome.tunnel_id, "domain": welcome.domain}, "request": request,
                  "exchange_status": status}), flush=True)
control_out.put(None)
channel.close()
