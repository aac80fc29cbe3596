using System.Buffers.Binary;
using NetLab.Core.Addressing;
using NetLab.Core.Randomness;

namespace NetLab.Stack.Tcp;

/// <summary>
/// A kernel's TCP secrets: <c>net_secret</c> and <c>ts_secret</c> (net/core/secure_seq.c) and
/// <c>syncookie_secret[2]</c> (net/ipv4/syncookies.c). Linux fills each once per boot with random bytes
/// (<c>net_get_random_once</c>) and shares them across network namespaces, so in NetLab they belong to the host.
/// Drawn from the host's seeded stream, they make its ISNs, timestamp offsets and cookies the same on every run
/// with the same seed.
/// </summary>
public sealed class TcpSecrets(SipKey netSecret, SipKey tsSecret, SipKey syncookieSecret0, SipKey syncookieSecret1)
{
    /// <summary>Keys <c>secure_tcp_seq()</c>.</summary>
    public SipKey NetSecret { get; } = netSecret;

    /// <summary>Keys <c>secure_tcp_ts_off()</c>.</summary>
    public SipKey TsSecret { get; } = tsSecret;

    /// <summary><c>syncookie_secret[0]</c>: the cookie's count-independent hash.</summary>
    public SipKey SyncookieSecret0 { get; } = syncookieSecret0;

    /// <summary><c>syncookie_secret[1]</c>: the hash of the minute counter that authenticates the MSS index.</summary>
    public SipKey SyncookieSecret1 { get; } = syncookieSecret1;

    /// <summary>
    /// Draws the four keys in the order above, each as two 64-bit words (K0 then K1), from a stream such as
    /// <c>host.RandomStream("tcp/secrets")</c>.
    /// </summary>
    public static TcpSecrets Create(RandomStream rng) => new(Draw(rng), Draw(rng), Draw(rng), Draw(rng));

    private static SipKey Draw(RandomStream rng) => new(rng.NextUInt64(), rng.NextUInt64());
}

/// <summary>
/// Initial sequence numbers and timestamp offsets, as net/core/secure_seq.c computes them for IPv4 (RFC 6528: a
/// keyed hash of the connection's addresses plus a clock).
/// <para>
/// Byte order. Linux passes the header fields as they sit in the packet, <c>__be32</c> addresses and
/// <c>__be16</c> ports, cast to u32 with <c>(__force u32)</c>. On a little-endian CPU (x86-64, arm64, the
/// kernels NetLab models) that cast reads the wire bytes little-endian, so 10.0.0.1 becomes the word
/// 0x0100000A and port 80 (wire 00 50) the half-word 0x5000. <see cref="Be32"/> and <see cref="PortPair"/>
/// compute those words from NetLab's host-order values. With <see cref="SipHash"/>'s packing, the hash input is
/// then the wire bytes themselves: <c>siphash_3u32(saddr, daddr, sport &lt;&lt; 16 | dport)</c> hashes the 12
/// bytes saddr, daddr, dport, sport, each in network order (the port word's low half, dport, comes first).
/// </para>
/// </summary>
public static class SecureSequence
{
    /// <summary>
    /// Linux: secure_tcp_seq() with seq_scale(): <c>siphash_3u32(saddr, daddr, sport &lt;&lt; 16 | dport,
    /// net_secret) + (ktime_get_real_ns() &gt;&gt; 6)</c>, both truncated to 32 bits. The clock term advances by
    /// 1 every 64 ns and wraps every 2^38 ns (about 274.9 s). RFC 793's 4 µs (250 kHz) clock is not what Linux
    /// uses: seq_scale() picked a 64 ns period so that 10 Gb/s does not wrap the space more than once per MSL.
    /// <para>
    /// The local end comes first both ways: tcp_v4_connect() passes (inet_saddr, inet_daddr, inet_sport,
    /// sin_port) and tcp_v4_init_seq() passes the SYN's (daddr, saddr, dest, source).
    /// </para>
    /// </summary>
    /// <param name="realtimeNs">CLOCK_REALTIME in nanoseconds (ktime_get_real_ns): the host's virtual wall clock.</param>
    public static SeqNum SecureTcpSeq(TcpSecrets secrets, Ipv4Address saddr, Ipv4Address daddr,
        ushort sport, ushort dport, long realtimeNs)
    {
        uint hash = (uint)SipHash.Hash3U32(Be32(saddr), Be32(daddr), PortPair(sport, dport), secrets.NetSecret);
        return new SeqNum(unchecked(hash + (uint)((ulong)realtimeNs >> 6)));
    }

    /// <summary>
    /// Linux: secure_tcp_ts_off(): the offset added to every TSval, <c>siphash_2u32(saddr, daddr, ts_secret)</c>
    /// truncated to 32 bits when net.ipv4.tcp_timestamps is 1, and 0 otherwise (2 means timestamps without
    /// offsets). It depends on the address pair only, so all connections between two hosts share a TSval clock
    /// (PAWS and tcp_tw_reuse rely on that). Callers put the local address first, as for
    /// <see cref="SecureTcpSeq"/> (tcp_v4_connect(), tcp_v4_init_ts_off(), cookie_tcp_check()).
    /// </summary>
    public static uint SecureTcpTsOff(TcpSecrets secrets, Ipv4Address saddr, Ipv4Address daddr, int tcpTimestamps) =>
        tcpTimestamps != 1 ? 0 : (uint)SipHash.Hash2U32(Be32(saddr), Be32(daddr), secrets.TsSecret);

    /// <summary><c>(__force u32)</c> of a <c>__be32</c> address on a little-endian CPU: the wire bytes read little-endian.</summary>
    internal static uint Be32(Ipv4Address a) => BinaryPrimitives.ReverseEndianness(a.Value);

    /// <summary><c>(__force u32)sport &lt;&lt; 16 | (__force u32)dport</c> of two <c>__be16</c> ports on a little-endian CPU.</summary>
    internal static uint PortPair(ushort sport, ushort dport) =>
        ((uint)BinaryPrimitives.ReverseEndianness(sport) << 16)
        | BinaryPrimitives.ReverseEndianness(dport);
}
