# One-off experiment (not part of NetLab): a minimal packetdrill-like peer on a Linux tun device, to check
# what the real kernel does in the cases DRILL-FINDINGS.md questions. Runs inside a throwaway netns.
import fcntl, os, select, socket, struct, subprocess, sys, time

TUNSETIFF = 0x400454ca
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000
LOCAL, REMOTE = "192.168.0.1", "192.0.2.1"

def sh(cmd): subprocess.run(cmd, shell=True, check=True)

def open_tun():
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", b"tun0", IFF_TUN | IFF_NO_PI))
    sh("ip link set lo up; ip link set tun0 up mtu 1500; ip addr add 192.168.0.1/16 dev tun0; "
       "ip route add 192.0.2.1/32 dev tun0")
    return fd

def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff

FL = {"F": 1, "S": 2, "R": 4, "P": 8, ".": 16}
def flags_of(s): return sum(FL[c] for c in s if c in FL)
def flags_str(v): return "".join(c for c, b in [("S", 2), ("F", 1), ("R", 4), ("P", 8), (".", 16)] if v & b) or "-"

def tcp_pkt(sport, dport, seq, ack, flags, win, opts=b"", plen=0):
    if len(opts) % 4: opts += b"\0" * (4 - len(opts) % 4)
    hl = 20 + len(opts)
    tcp = struct.pack("!HHIIHHHH", sport, dport, seq & 0xffffffff, ack & 0xffffffff, (hl // 4) << 12 | flags, win, 0, 0) + opts + b"\0" * plen
    src, dst = socket.inet_aton(REMOTE), socket.inet_aton(LOCAL)
    c = csum(src + dst + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return ip + tcp

class Peer:
    def __init__(self, fd, sport=40000, dport=8080):
        self.fd, self.sport, self.dport, self.t0 = fd, sport, dport, time.monotonic()
        self.isn = None
    def now(self): return time.monotonic() - self.t0
    def send(self, flags, seq, ack, win, opts=b"", plen=0):
        a = (self.isn + ack) if (self.isn is not None and ack is not None) else 0
        os.write(self.fd, tcp_pkt(self.sport, self.dport, seq, a, flags_of(flags), win, opts, plen))
        print(f"{self.now():.4f} < {flags} {seq}:{seq+plen}({plen}) ack {ack} win {win}")
    def recv(self, timeout):
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0: return None
            r, _, _ = select.select([self.fd], [], [], left)
            if not r: return None
            p = os.read(self.fd, 65536)
            if p[0] >> 4 != 4 or p[9] != 6: continue
            ihl = (p[0] & 15) * 4
            t = p[ihl:]
            sport, dport, seq, ack, off, win = struct.unpack("!HHIIHH", t[:16])
            hl = (off >> 12) * 4
            fl = off & 0x1ff
            if fl & 2: self.isn = seq
            rel = seq - (self.isn or 0)
            ln = len(t) - hl
            print(f"{self.now():.4f} > {flags_str(fl)} {rel}:{rel+ln}({ln}) ack {ack} win {win}")
            return (self.now(), flags_str(fl), rel, ack, ln)
    def drain(self, timeout):
        out = []
        while (x := self.recv(timeout)) is not None: out.append(x)
        return out

def defaults():
    sh('sysctl -q net.ipv4.tcp_rmem="4096 540000 15728640" net.ipv4.tcp_wmem="4096 262144 4194304" '
       'net.ipv4.tcp_timestamps=1 net.ipv4.tcp_sack=1 net.ipv4.tcp_early_retrans=4 net.ipv4.tcp_recovery=1 '
       'net.ipv4.tcp_slow_start_after_idle=0 net.ipv4.tcp_syn_retries=5')
