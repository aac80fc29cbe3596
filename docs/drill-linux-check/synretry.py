# SYN retransmission times of the real kernel toward a peer that never answers.
#   synretry.py                      packet-timeout.pkt: tcp_syn_retries=1 (Linux 6.18: SYNs at 0, 1, 2 s; ETIMEDOUT at 3 s)
#   synretry.py "sysctl -q net.ipv4.tcp_syn_retries=5 net.ipv4.tcp_syn_linear_timeouts=0" 70
#                                    docs/drill-examples/syn-retries.pkt
import os, socket, struct, time, sys, threading, subprocess
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tunpeer import *
fd = open_tun(); defaults()
subprocess.run(sys.argv[1] if len(sys.argv) > 1 else "sysctl -q net.ipv4.tcp_syn_retries=1", shell=True, check=True)
wait = float(sys.argv[2]) if len(sys.argv) > 2 else 8
t0 = time.monotonic()
res = {}
def conn():
    c = socket.socket()
    try: c.connect((REMOTE, 8080))
    except OSError as e: res['err'] = (e.errno, time.monotonic() - t0)
threading.Thread(target=conn, daemon=True).start()
end = time.monotonic() + wait
while time.monotonic() < end and 'err' not in res:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        pkt = os.read(fd, 65536)
        if pkt[9] == 6: print(f"SYN at {time.monotonic() - t0:.3f}")
print(res)
