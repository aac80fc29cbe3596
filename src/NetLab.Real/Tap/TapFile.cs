using System.Buffers.Binary;
using System.Text;
using NetLab.Real.Native;

namespace NetLab.Real.Tap;

/// <summary>Why a TAP device could not be opened, in the words a C tool would print.</summary>
public sealed class TapException(string message) : Exception(message);

/// <summary>
/// A file descriptor on /dev/net/tun bound to one TAP interface (IFF_TAP | IFF_NO_PI: whole Ethernet
/// frames, no packet-information prefix), non-blocking. Closing it detaches NetLab; a device this
/// process created (not persistent) disappears with it, as with any tun/tap user.
/// </summary>
public sealed class TapFile : IDisposable
{
    private TapFile(int fd, string name, int kernelMtu)
    {
        Fd = fd;
        Name = name;
        KernelMtu = kernelMtu;
    }

    public int Fd { get; private set; }
    public string Name { get; }

    /// <summary>The MTU of the kernel's side of the device (SIOCGIFMTU), read once at open.</summary>
    public int KernelMtu { get; }

    /// <summary>
    /// Opens TAP device <paramref name="name"/>. Without <paramref name="create"/> the device must exist
    /// (ip tuntap add dev NAME mode tap): TUNSETIFF would otherwise silently create one. With it, a missing
    /// device is created and brought up (without an address: the caller configures the kernel's side).
    /// </summary>
    public static TapFile Open(string name, bool create)
    {
        if (name.Length == 0 || Encoding.UTF8.GetByteCount(name) >= Libc.IfNameSize || name.Contains('/') || name.Contains(' '))
            throw new TapException($"{name}: invalid interface name");
        bool exists = Libc.if_nametoindex(name) != 0;
        if (!exists && !create)
            throw new TapException($"{name}: no such device (create it with `ip tuntap add dev {name} mode tap`, or pass --create)");
        int fd = Libc.open("/dev/net/tun", Libc.ORdWr | Libc.ONonBlock | Libc.OCloExec);
        if (fd < 0) throw new TapException($"/dev/net/tun: {Libc.Describe(Libc.Errno)}");
        try
        {
            var ifr = IfReq(name);
            BinaryPrimitives.WriteInt16LittleEndian(ifr.AsSpan(Libc.IfNameSize), Libc.IffTap | Libc.IffNoPi);
            if (Libc.ioctl(fd, Libc.TunSetIff, ref ifr[0]) < 0)
            {
                int e = Libc.Errno;
                // EINVAL: a tun (not tap) device or other flags; EBUSY: another process holds its only queue.
                throw new TapException($"TUNSETIFF {name}: {Libc.Describe(e)}{(e == 22 ? " (is it a tun device, or multi_queue?)" : "")}");
            }
            int mtu = DeviceIoctl(name, up: !exists);
            return new TapFile(fd, name, mtu);
        }
        catch
        {
            Libc.close(fd);
            throw;
        }
    }

    /// <summary>
    /// Any descriptor that carries one frame per read() and write(), as tun does: tests use one end of an
    /// AF_UNIX datagram socketpair, which needs neither root nor /dev/net/tun.
    /// </summary>
    internal static TapFile FromDescriptor(int fd, string name, int mtu) => new(fd, name, mtu);

    /// <summary>Reads the device's MTU, and sets IFF_UP when <paramref name="up"/>, through an AF_INET socket as ip(8) does.</summary>
    private static int DeviceIoctl(string name, bool up)
    {
        int s = Libc.socket(Libc.AfInet, Libc.SockDgram, 0);
        if (s < 0) throw new TapException($"socket: {Libc.Describe(Libc.Errno)}");
        try
        {
            var ifr = IfReq(name);
            if (Libc.ioctl(s, Libc.SiocGIfMtu, ref ifr[0]) < 0) throw new TapException($"SIOCGIFMTU {name}: {Libc.Describe(Libc.Errno)}");
            int mtu = BinaryPrimitives.ReadInt32LittleEndian(ifr.AsSpan(Libc.IfNameSize));
            if (up)
            {
                ifr = IfReq(name);
                if (Libc.ioctl(s, Libc.SiocGIfFlags, ref ifr[0]) < 0) throw new TapException($"SIOCGIFFLAGS {name}: {Libc.Describe(Libc.Errno)}");
                short flags = BinaryPrimitives.ReadInt16LittleEndian(ifr.AsSpan(Libc.IfNameSize));
                BinaryPrimitives.WriteInt16LittleEndian(ifr.AsSpan(Libc.IfNameSize), (short)(flags | Libc.IffUp));
                if (Libc.ioctl(s, Libc.SiocSIfFlags, ref ifr[0]) < 0) throw new TapException($"SIOCSIFFLAGS {name}: {Libc.Describe(Libc.Errno)}");
            }
            return mtu;
        }
        finally
        {
            Libc.close(s);
        }
    }

    private static byte[] IfReq(string name)
    {
        var ifr = new byte[Libc.IfReqSize];
        Encoding.UTF8.GetBytes(name, ifr);
        return ifr;
    }

    public void Dispose()
    {
        if (Fd < 0) return;
        Libc.close(Fd);
        Fd = -1;
    }
}
