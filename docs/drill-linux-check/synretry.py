# packetdrill/tests/packet-timeout.pkt against the real kernel: SYN times with tcp_syn_retries=1.
import os, socket, struct, time, sys, threading, subprocess
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tunpeer import *
fd = open_tun(); defaults()
subprocess.run("sysctl -q net.ipv4.tcp_syn_retries=1; sysctl net.ipv4.tcp_syn_linear_timeouts", shell=True)
t0 = time.monotonic()
res = {}
def conn():
    c = socket.socket()
    try: c.connect((REMOTE, 8080))
    except OSError as e: res['err'] = (e.errno, time.monotonic() - t0)
threading.Thread(target=conn, daemon=True).start()
end = time.monotonic() + 8
while time.monotonic() < end and 'err' not in res:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        pkt = os.read(fd, 65536)
        if pkt[9] == 6: print(f"SYN at {time.monotonic() - t0:.3f}")
print(res)
