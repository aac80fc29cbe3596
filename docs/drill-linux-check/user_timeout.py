# tcp/user_timeout/user_timeout.pkt against the real kernel: FIN retransmission times after close() with
# TCP_USER_TIMEOUT 3000 ms, then the reply to data arriving afterwards.
import os, socket, time, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tunpeer import *
fd = open_tun(); defaults()
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); ls.bind((LOCAL, 8080)); ls.listen(1)
p = Peer(fd)
p.send("S", 0, None, 32792, bytes([2, 4, 0x03, 0xe8, 4, 2, 1, 1]))
p.recv(1)
time.sleep(0.1)
p.send(".", 1, 1, 32792)
c, _ = ls.accept()
time.sleep(2)
c.setsockopt(socket.IPPROTO_TCP, 18, 3000)  # TCP_USER_TIMEOUT
c.close()
p.drain(1.5)
p.send(".", 1, 1, 32792, plen=1)
p.drain(0.2)
