# docs/drill-examples/nagle-delayed-ack.pkt against the real kernel (the kernel is the client here).
import os, socket, struct, time, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tunpeer import *
fd = open_tun(); defaults()
c = socket.socket(); c.setblocking(False)
try: c.connect((REMOTE, 8080))
except BlockingIOError: pass
syn = Peer(fd, sport=8080, dport=0)
# The kernel's SYN tells us its port; answer from 192.0.2.1:8080.
while True:
    pkt = os.read(fd, 65536)
    if pkt[9] == 6: break
ihl = (pkt[0] & 15) * 4
syn.dport, = struct.unpack("!H", pkt[ihl:ihl + 2])
syn.isn, = struct.unpack("!I", pkt[ihl + 4:ihl + 8])
print(f"{syn.now():.4f} > S 0:0(0) (port {syn.dport})")
time.sleep(0.01)
syn.send("S.", 0, 1, 65535, bytes([2, 4, 0x05, 0xb4, 1, 3, 3, 7]))
syn.recv(1)
c.setblocking(True)
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 0)
time.sleep(0.1)
c.send(b"h" * 100); syn.recv(0.5)
c.send(b"b" * 50)
print("held by Nagle?", syn.recv(0.03) is None)
time.sleep(0.01)
syn.send(".", 1, 101, 512); syn.recv(0.5)
time.sleep(0.001)
t = syn.now(); syn.send("P.", 1, 151, 512, plen=200)
print(len(c.recv(1000)), "bytes read")
r = syn.recv(0.5)
print(f"client ACK after {1000*(r[0]-t):.1f} ms" if r else "no ACK")
