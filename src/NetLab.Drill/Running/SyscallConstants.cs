namespace NetLab.Drill.Running;

/// <summary>The Linux (x86-64) values of the symbols scripts pass to system calls and use in %{ }% blocks.</summary>
internal static class SyscallConstants
{
    public const int AF_INET = 2, SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_NONBLOCK = 0x800, SOCK_CLOEXEC = 0x80000;
    public const int IPPROTO_TCP = 6, SOL_SOCKET = 1, SOL_IP = 0;
    public const int SO_REUSEADDR = 2, SO_ERROR = 4, SO_SNDBUF = 7, SO_RCVBUF = 8, SO_KEEPALIVE = 9, SO_LINGER = 13,
        SO_REUSEPORT = 15, SO_RCVLOWAT = 18, SO_ZEROCOPY = 60;
    public const int TCP_NODELAY = 1, TCP_MAXSEG = 2, TCP_CORK = 3, TCP_KEEPIDLE = 4, TCP_KEEPINTVL = 5, TCP_KEEPCNT = 6,
        TCP_SYNCNT = 7, TCP_LINGER2 = 8, TCP_QUICKACK = 12, TCP_CONGESTION = 13, TCP_USER_TIMEOUT = 18, TCP_INQ = 36,
        TCP_CM_INQ = TCP_INQ;
    public const int IP_TOS = 1, IP_TTL = 2, IP_MTU_DISCOVER = 10;
    public const int F_GETFL = 3, F_SETFL = 4, O_RDWR = 2, O_NONBLOCK = 0x800;
    public const int MSG_PEEK = 2, MSG_DONTWAIT = 0x40, MSG_WAITALL = 0x100, MSG_NOSIGNAL = 0x4000, MSG_MORE = 0x8000,
        MSG_ZEROCOPY = 0x4000000;
    public const int SHUT_RD = 0, SHUT_WR = 1, SHUT_RDWR = 2;
    public const int SIOCINQ = 0x541B, SIOCOUTQ = 0x5411, SIOCOUTQNSD = 0x894B;
    public const int POLLIN = 0x1, POLLPRI = 0x2, POLLOUT = 0x4, POLLERR = 0x8, POLLHUP = 0x10, POLLNVAL = 0x20,
        POLLRDNORM = 0x40, POLLWRNORM = 0x100, POLLRDHUP = 0x2000;

    private static readonly Dictionary<string, long> Values = new(StringComparer.Ordinal)
    {
        ["NULL"] = 0, ["AF_INET"] = AF_INET, ["AF_UNSPEC"] = 0, ["PF_INET"] = AF_INET,
        ["SOCK_STREAM"] = SOCK_STREAM, ["SOCK_DGRAM"] = SOCK_DGRAM, ["SOCK_NONBLOCK"] = SOCK_NONBLOCK, ["SOCK_CLOEXEC"] = SOCK_CLOEXEC,
        ["IPPROTO_TCP"] = IPPROTO_TCP, ["IPPROTO_UDP"] = 17, ["IPPROTO_IP"] = 0,
        ["SOL_SOCKET"] = SOL_SOCKET, ["SOL_TCP"] = IPPROTO_TCP, ["SOL_IP"] = SOL_IP,
        ["SO_REUSEADDR"] = SO_REUSEADDR, ["SO_ERROR"] = SO_ERROR, ["SO_SNDBUF"] = SO_SNDBUF, ["SO_RCVBUF"] = SO_RCVBUF,
        ["SO_KEEPALIVE"] = SO_KEEPALIVE, ["SO_LINGER"] = SO_LINGER, ["SO_REUSEPORT"] = SO_REUSEPORT, ["SO_RCVLOWAT"] = SO_RCVLOWAT,
        ["SO_ZEROCOPY"] = SO_ZEROCOPY,
        ["TCP_NODELAY"] = TCP_NODELAY, ["TCP_MAXSEG"] = TCP_MAXSEG, ["TCP_CORK"] = TCP_CORK, ["TCP_KEEPIDLE"] = TCP_KEEPIDLE,
        ["TCP_KEEPINTVL"] = TCP_KEEPINTVL, ["TCP_KEEPCNT"] = TCP_KEEPCNT, ["TCP_SYNCNT"] = TCP_SYNCNT, ["TCP_LINGER2"] = TCP_LINGER2,
        ["TCP_DEFER_ACCEPT"] = 9, ["TCP_INFO"] = 11, ["TCP_QUICKACK"] = TCP_QUICKACK, ["TCP_CONGESTION"] = TCP_CONGESTION,
        ["TCP_MD5SIG"] = 14, ["TCP_USER_TIMEOUT"] = TCP_USER_TIMEOUT, ["TCP_FASTOPEN"] = 23, ["TCP_NOTSENT_LOWAT"] = 25,
        ["TCP_FASTOPEN_CONNECT"] = 30, ["TCP_FASTOPEN_KEY"] = 33, ["TCP_INQ"] = TCP_INQ, ["TCP_CM_INQ"] = TCP_CM_INQ,
        ["IP_TOS"] = IP_TOS, ["IP_TTL"] = IP_TTL, ["IP_MTU_DISCOVER"] = IP_MTU_DISCOVER, ["IP_PMTUDISC_DONT"] = 0, ["IP_PMTUDISC_WANT"] = 1,
        ["IP_PMTUDISC_DO"] = 2,
        ["F_GETFL"] = F_GETFL, ["F_SETFL"] = F_SETFL, ["O_RDONLY"] = 0, ["O_WRONLY"] = 1, ["O_RDWR"] = O_RDWR, ["O_NONBLOCK"] = O_NONBLOCK,
        ["MSG_OOB"] = 1, ["MSG_PEEK"] = MSG_PEEK, ["MSG_DONTWAIT"] = MSG_DONTWAIT, ["MSG_EOR"] = 0x80, ["MSG_WAITALL"] = MSG_WAITALL,
        ["MSG_NOSIGNAL"] = MSG_NOSIGNAL, ["MSG_MORE"] = MSG_MORE, ["MSG_ZEROCOPY"] = MSG_ZEROCOPY, ["MSG_FASTOPEN"] = 0x20000000,
        ["SHUT_RD"] = SHUT_RD, ["SHUT_WR"] = SHUT_WR, ["SHUT_RDWR"] = SHUT_RDWR,
        ["SIOCINQ"] = SIOCINQ, ["FIONREAD"] = SIOCINQ, ["SIOCOUTQ"] = SIOCOUTQ, ["TIOCOUTQ"] = SIOCOUTQ, ["SIOCOUTQNSD"] = SIOCOUTQNSD,
        ["POLLIN"] = POLLIN, ["POLLPRI"] = POLLPRI, ["POLLOUT"] = POLLOUT, ["POLLERR"] = POLLERR, ["POLLHUP"] = POLLHUP,
        ["POLLNVAL"] = POLLNVAL, ["POLLRDNORM"] = POLLRDNORM, ["POLLWRNORM"] = POLLWRNORM, ["POLLRDHUP"] = POLLRDHUP,
        // %{ }% constants: enum tcp_ca_state and the TCPI_OPT_* bits of tcpi_options (include/uapi/linux/tcp.h).
        ["TCP_CA_Open"] = 0, ["TCP_CA_Disorder"] = 1, ["TCP_CA_CWR"] = 2, ["TCP_CA_Recovery"] = 3, ["TCP_CA_Loss"] = 4,
        ["TCPI_OPT_TIMESTAMPS"] = 1, ["TCPI_OPT_SACK"] = 2, ["TCPI_OPT_WSCALE"] = 4, ["TCPI_OPT_ECN"] = 8,
        ["TCPI_OPT_ECN_SEEN"] = 16, ["TCPI_OPT_SYN_DATA"] = 32, ["TCPI_OPT_USEC_TS"] = 64,
        ["TCP_ESTABLISHED"] = 1, ["TCP_SYN_SENT"] = 2, ["TCP_SYN_RECV"] = 3, ["TCP_FIN_WAIT1"] = 4, ["TCP_FIN_WAIT2"] = 5,
        ["TCP_TIME_WAIT"] = 6, ["TCP_CLOSE"] = 7, ["TCP_CLOSE_WAIT"] = 8, ["TCP_LAST_ACK"] = 9, ["TCP_LISTEN"] = 10, ["TCP_CLOSING"] = 11,
    };

    public static bool TryGet(string name, out long value) => Values.TryGetValue(name, out value);

    /// <summary>errno names and numbers (asm-generic/errno*.h) beyond NetLab's <see cref="Stack.Errno"/>.</summary>
    private static readonly Dictionary<string, (int Number, string Text)> ExtraErrno = new(StringComparer.Ordinal)
    {
        ["EBADF"] = (9, "Bad file descriptor"),
        ["EFAULT"] = (14, "Bad address"),
        ["ENOTSOCK"] = (88, "Socket operation on non-socket"),
        ["EPROTONOSUPPORT"] = (93, "Protocol not supported"),
        ["ESOCKTNOSUPPORT"] = (94, "Socket type not supported"),
        ["EAFNOSUPPORT"] = (97, "Address family not supported by protocol"),
    };

    /// <summary>"11 (Resource temporarily unavailable)" for an errno name.</summary>
    public static string Describe(string name)
    {
        if (Enum.TryParse<Stack.Errno>(name, out var e)) return $"{(int)e} ({Stack.ErrnoText.Describe(e)})";
        if (ExtraErrno.TryGetValue(name, out var x)) return $"{x.Number} ({x.Text})";
        return name;
    }
}
