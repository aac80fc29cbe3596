using System.Runtime.InteropServices;

namespace NetLab.Real.Native;

/// <summary>
/// The few libc calls a TAP attachment needs (Linux, x86-64/arm64 constants). Buffers are passed as
/// <c>ref byte</c>, which the marshaller pins for the call: no unsafe code and no copies.
/// </summary>
internal static class Libc
{
    public const int ORdWr = 2, ONonBlock = 0x800, OCloExec = 0x80000;
    public const int EfdNonBlock = 0x800, EfdCloExec = 0x80000;
    public const short PollIn = 0x001;
    public const int EIntr = 4, EAgain = 11;
    public const int AfUnix = 1, AfInet = 2, SockDgram = 2, SockNonBlock = 0x800, SockCloExec = 0x80000;
    public const int PrSetTimerSlack = 29;

    // <linux/if_tun.h>: TUNSETIFF = _IOW('T', 202, int); IFF_TAP, IFF_NO_PI.
    public const uint TunSetIff = 0x400454ca;
    public const short IffTap = 0x0002, IffNoPi = 0x1000;
    // <linux/sockios.h>
    public const uint SiocGIfFlags = 0x8913, SiocSIfFlags = 0x8914, SiocGIfMtu = 0x8921;
    public const short IffUp = 0x1;

    /// <summary>sizeof(struct ifreq) on 64-bit Linux: a 16-byte name, then a 24-byte union.</summary>
    public const int IfReqSize = 40, IfNameSize = 16;

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", SetLastError = true)]
    public static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", SetLastError = true)]
    public static extern int close(int fd);

    [DllImport("libc", SetLastError = true)]
    public static extern nint read(int fd, ref byte buffer, nint count);

    [DllImport("libc", SetLastError = true)]
    public static extern nint write(int fd, ref byte buffer, nint count);

    [DllImport("libc", SetLastError = true)]
    public static extern int ioctl(int fd, nuint request, ref byte argument);

    [DllImport("libc", SetLastError = true)]
    public static extern int poll(ref PollFd fds, nuint count, int timeoutMs);

    [DllImport("libc", SetLastError = true)]
    public static extern int ppoll(ref PollFd fds, nuint count, ref Timespec timeout, nint sigmask);

    [DllImport("libc", SetLastError = true)]
    public static extern int eventfd(uint initial, int flags);

    [DllImport("libc", SetLastError = true)]
    public static extern int socket(int domain, int type, int protocol);

    [DllImport("libc", SetLastError = true)]
    public static extern int socketpair(int domain, int type, int protocol, int[] fds);

    [DllImport("libc", SetLastError = true)]
    public static extern uint if_nametoindex([MarshalAs(UnmanagedType.LPUTF8Str)] string name);

    [DllImport("libc", SetLastError = true)]
    public static extern int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [DllImport("libc")]
    private static extern nint strerror(int errnum);

    public static int Errno => Marshal.GetLastPInvokeError();

    /// <summary>strerror(errno), as a C tool prints it.</summary>
    public static string Describe(int errno) => Marshal.PtrToStringUTF8(strerror(errno)) ?? $"errno {errno}";
}
