namespace NetLab.Stack;

/// <summary>Linux errno values that NetLab sockets report (asm-generic/errno*.h numbers).</summary>
public enum Errno
{
    None = 0,
    EPERM = 1,
    ENOENT = 2,
    EINTR = 4,
    EAGAIN = 11,
    ENOMEM = 12,
    EACCES = 13,
    EINVAL = 22,
    EPIPE = 32,
    ENOPROTOOPT = 92,
    EOPNOTSUPP = 95,
    EADDRINUSE = 98,
    EADDRNOTAVAIL = 99,
    ENETDOWN = 100,
    ENETUNREACH = 101,
    ECONNABORTED = 103,
    ECONNRESET = 104,
    ENOBUFS = 105,
    EISCONN = 106,
    ENOTCONN = 107,
    ETIMEDOUT = 110,
    ECONNREFUSED = 111,
    EHOSTDOWN = 112,
    EHOSTUNREACH = 113,
    EALREADY = 114,
    EINPROGRESS = 115,
    EMSGSIZE = 90,
    EDESTADDRREQ = 89,
    EPROTO = 71,
}

/// <summary>An errno surfaced through an async socket API.</summary>
public sealed class NetLabSocketException(Errno errno, string? message = null)
    : Exception(message ?? ErrnoText.Describe(errno))
{
    public Errno Errno { get; } = errno;
}

public static class ErrnoText
{
    /// <summary>strerror() text, as tools print it.</summary>
    public static string Describe(Errno e) => e switch
    {
        Errno.EPERM => "Operation not permitted",
        Errno.EAGAIN => "Resource temporarily unavailable",
        Errno.EACCES => "Permission denied",
        Errno.EINVAL => "Invalid argument",
        Errno.EPIPE => "Broken pipe",
        Errno.EADDRINUSE => "Address already in use",
        Errno.EADDRNOTAVAIL => "Cannot assign requested address",
        Errno.ENETDOWN => "Network is down",
        Errno.ENETUNREACH => "Network is unreachable",
        Errno.ECONNRESET => "Connection reset by peer",
        Errno.ENOBUFS => "No buffer space available",
        Errno.ENOTCONN => "Transport endpoint is not connected",
        Errno.ETIMEDOUT => "Connection timed out",
        Errno.ECONNREFUSED => "Connection refused",
        Errno.EHOSTUNREACH => "No route to host",
        Errno.EMSGSIZE => "Message too long",
        Errno.EPROTO => "Protocol error",
        Errno.ENOENT => "No such file or directory",
        Errno.EINTR => "Interrupted system call",
        Errno.ENOMEM => "Cannot allocate memory",
        Errno.ENOPROTOOPT => "Protocol not available",
        Errno.EOPNOTSUPP => "Operation not supported",
        Errno.ECONNABORTED => "Software caused connection abort",
        Errno.EISCONN => "Transport endpoint is already connected",
        Errno.EHOSTDOWN => "Host is down",
        Errno.EDESTADDRREQ => "Destination address required",
        Errno.EALREADY => "Operation already in progress",
        Errno.EINPROGRESS => "Operation now in progress",
        _ => e.ToString(),
    };
}
