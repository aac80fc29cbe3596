# tcp/fast_retransmit/fr-4pkt-fack-last-mss.pkt against the real kernel: when does RACK retransmit 1:1001?
import os, socket, time, sys, struct
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tunpeer import *
fd = open_tun(); defaults()
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); ls.bind((LOCAL, 8080)); ls.listen(1)
p = Peer(fd)
p.send("S", 0, None, 32792, bytes([2, 4, 0x03, 0xe8, 4, 2, 1, 1, 1, 3, 3, 7]))
p.recv(1)
time.sleep(0.1)
p.send(".", 1, 1, 320)
c, _ = ls.accept()
c.send(b"x" * 4000)
p.drain(0.05)
time.sleep(0.05)
def sack(a, b, isn): return bytes([1, 1, 5, 10]) + struct.pack("!II", isn + a, isn + b)
t = p.now(); p.send(".", 1, 1, 320, sack(3001, 4001, p.isn))
r = p.recv(1)
print(f"retransmit after {1000*(r[0]-t):.1f} ms: {r}" if r else "none")
