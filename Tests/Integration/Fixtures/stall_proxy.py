"""A TCP proxy that can stop reading from the server: a client that never reads its streams.

Usage: stall_proxy.py PORT_FILE TARGET_PORT
Listens on 127.0.0.1 (a free port, written to PORT_FILE) and forwards each connection to
127.0.0.1:TARGET_PORT in both directions. After SIGUSR1 it stops reading from the server side
(the client still sends): the server's socket buffers and HTTP/2 windows fill and stay full.
"""
import os
import signal
import socket
import sys
import threading

port_file, target = sys.argv[1], int(sys.argv[2])
stalled = threading.Event()
signal.signal(signal.SIGUSR1, lambda *_: stalled.set())


def pump(source, sink, stall):
    try:
        while True:
            if stall and stalled.is_set():
                threading.Event().wait()  # never read again
            data = source.recv(65536)
            if not data:
                break
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(16)
with open(port_file + ".tmp", "w") as f:
    f.write(str(listener.getsockname()[1]))
os.rename(port_file + ".tmp", port_file)
while True:
    client, _ = listener.accept()
    server = socket.create_connection(("127.0.0.1", target))
    threading.Thread(target=pump, args=(client, server, False), daemon=True).start()
    threading.Thread(target=pump, args=(server, client, True), daemon=True).start()
