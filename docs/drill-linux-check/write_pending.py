# A blocking write() issued while connect() is in progress: does the SYN-ACK's ACK ride on the data?
import os, socket, struct, time, sys, threading
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tunpeer import *
fd = open_tun(); defaults()
c = socket.socket(); c.setblocking(False)
try: c.connect((REMOTE, 8080))
except BlockingIOError: pass
p = Peer(fd, sport=8080, dport=0)
while True:
    pkt = os.read(fd, 65536)
    if pkt[9] == 6: break
ihl = (pkt[0] & 15) * 4
p.dport, = struct.unpack("!H", pkt[ihl:ihl + 2])
p.isn, = struct.unpack("!I", pkt[ihl + 4:ihl + 8])
c.setblocking(True)
threading.Thread(target=lambda: c.send(b"d" * 100), daemon=True).start()
time.sleep(0.1)
p.send("S.", 0, 1, 65535, bytes([2, 4, 0x05, 0xb4, 1, 3, 3, 7]))
p.drain(0.05)
