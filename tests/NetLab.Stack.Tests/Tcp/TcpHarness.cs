using NetLab.Core.Addressing;
using NetLab.Core.Packets;
using NetLab.Core.Randomness;
using NetLab.Core.Time;
using NetLab.Stack.IPv4;
using NetLab.Stack.Link;
using NetLab.Stack.Tcp;
using Xunit.Sdk;

namespace NetLab.Stack.Tests.Tcp;

/// <summary>
/// The segment-by-segment TCP harness of CONVENTIONS rule 11, laid out as packetdrill's tun setup: the device under
/// test ("dut", eth0 192.168.0.1/24, default route via 192.168.0.2) talks to a remote peer 192.0.2.1 behind that
/// gateway, and the harness is the wire. <see cref="Send"/> injects what the peer sends at a virtual time;
/// <see cref="ExpectSent(SimDuration, SegCheck[])"/> runs the scheduler (zero wall time) to the next frame the DUT
/// transmits and checks its time and content. Every frame the DUT sends, ARP excepted, must be expected in order.
/// <para>
/// Times are virtual time since the harness started (packetdrill's script time). Tests own their sockets; at
/// <see cref="Dispose"/> the device goes down and no packet may be left outside the pool (rule 3).
/// </para>
/// </summary>
public sealed class TcpHarness : IDisposable
{
    public static readonly Ipv4Address LocalIp = Ipv4Address.Parse("192.168.0.1");
    public static readonly Ipv4Address GatewayIp = Ipv4Address.Parse("192.168.0.2");
    public static readonly Ipv4Address RemoteIp = Ipv4Address.Parse("192.0.2.1");
    public static readonly MacAddress GatewayMac = MacAddress.Parse("02:00:00:00:00:02");
    /// <summary>The DUT's port in the template; a test binds (or listens on) it.</summary>
    public const ushort LocalPort = 40000;
    /// <summary>The peer's port, packetdrill's connect port.</summary>
    public const ushort RemotePort = 8080;
    /// <summary>The peer's ISN: smoltcp's REMOTE_SEQ (-1001), so the first kilobyte of a transfer wraps 2^32.</summary>
    public static readonly SeqNum RemoteIsn = new(unchecked((uint)-1001));

    /// <summary>An ACK from the peer after its SYN, with Linux's IPv4 defaults (TTL 64, DF).</summary>
    public static readonly InboundSegment SendTemplate = new()
    {
        SourcePort = RemotePort,
        DestinationPort = LocalPort,
        Flags = TcpFlags.Ack,
        Seq = RemoteIsn + 1,
        Window = 65535,
        Ttl = 64,
        DontFragment = true,
    };

    private static readonly SimDuration RunLimit = SimDuration.FromSeconds(3600);

    private readonly Queue<SentFrame> _sent = new();
    private SeqNum? _localIsn;
    private bool _failed;

    public TcpHarness(int mtu = 1500, ulong seed = 1)
    {
        Random = new RandomStreams(seed);
        Host = new Host("dut", Scheduler, Random, Pool);
        Device = Host.AddEthernet("eth0", mtu: mtu);
        Device.Attach(new CaptureWire(this));
        Device.SetUp(true);
        Host.Ipv4.AddAddress(Device, new Ipv4Prefix(LocalIp, 24));
        Host.Ipv4.AddRoute(Ipv4Prefix.Parse("0.0.0.0/0"), GatewayIp, null);
        // ip neigh add 192.168.0.2 lladdr ... nud permanent: no ARP in the segment scripts.
        Host.Neighbours.SetStatic(Device, GatewayIp, GatewayMac);
    }

    public Scheduler Scheduler { get; } = new();
    public PacketPool Pool { get; } = new();
    public RandomStreams Random { get; }
    public Host Host { get; }
    public EthernetDevice Device { get; }
    public SimDuration Now => Scheduler.Now - SimTime.Zero;

    /// <summary>The sequence number of the DUT's first SYN or SYN-ACK, for <c>Seg.Ack(h.LocalIsn + 1)</c>.</summary>
    public SeqNum LocalIsn => _localIsn ?? throw new InvalidOperationException("The DUT has not sent a SYN or SYN-ACK yet.");

    /// <summary>Runs <paramref name="action"/> at virtual time <paramref name="at"/> (a packetdrill system call line).</summary>
    public void At(SimDuration at, Action action)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(at, Now);
        Scheduler.At(SimTime.Zero + at, action);
        Scheduler.RunUntil(SimTime.Zero + at);
    }

    /// <summary>
    /// Starts <paramref name="body"/> at <paramref name="at"/> on the scheduler's synchronization context: its awaits
    /// resume as the harness moves virtual time on (Send, Expect..., Run).
    /// </summary>
    public Task Start(SimDuration at, Func<Task> body) => StartAt(at, body);

    /// <summary>Runs <paramref name="body"/> from now until it completes, failing after <paramref name="within"/> (default 1 h) of virtual time.</summary>
    public void Run(Func<Task> body, SimDuration? within = null) =>
        Scheduler.Run(StartAt(Now, body), Scheduler.Now + (within ?? RunLimit));

    /// <inheritdoc cref="Run(Func{Task}, SimDuration?)"/>
    public T Run<T>(Func<Task<T>> body, SimDuration? within = null) =>
        Scheduler.Run(StartAt(Now, body), Scheduler.Now + (within ?? RunLimit));

    private TTask StartAt<TTask>(SimDuration at, Func<TTask> body) where TTask : Task
    {
        TTask? task = null;
        At(at, () => task = body());
        return task!;
    }

    /// <summary>The peer sends <paramref name="segment"/>: it reaches eth0 at virtual time <paramref name="at"/>.</summary>
    public void Send(SimDuration at, InboundSegment segment) => SendFrame(at, Frame(segment));

    /// <summary>An Ethernet frame reaches eth0 at <paramref name="at"/>; events up to that instant run.</summary>
    public void SendFrame(SimDuration at, byte[] frame) => At(at, () => Device.OnFrameReceived(Pool.RentCopy(frame)));

    /// <summary>The frame that carries <paramref name="segment"/> from the peer through the gateway.</summary>
    public byte[] Frame(InboundSegment segment)
    {
        var tcp = segment.ToRepr();
        var bytes = new byte[tcp.HeaderLength + segment.Payload.Length];
        segment.Payload.CopyTo(bytes, tcp.HeaderLength);
        tcp.Emit(bytes, RemoteIp, LocalIp);
        if (segment.BadChecksum)
        {
            var v = TcpHeaderView.ForEmit(bytes);
            v.Checksum = (ushort)(v.Checksum ^ 1);
        }
        return IpFrame(new Ipv4Repr(RemoteIp, LocalIp, IpProtocol.Tcp, bytes.Length, segment.Ttl, segment.Tos,
            segment.IpId, segment.DontFragment), bytes);
    }

    /// <summary>An Ethernet frame from the gateway to eth0 carrying <paramref name="ip"/> (its length set from the payload).</summary>
    public byte[] IpFrame(Ipv4Repr ip, ReadOnlySpan<byte> payload)
    {
        const int l3 = EthernetHeaderView.Length, l4 = l3 + Ipv4Repr.HeaderLength;
        var frame = new byte[l4 + payload.Length];
        new EthernetRepr(Device.Mac, GatewayMac, EtherType.Ipv4).Emit(frame);
        (ip with { PayloadLength = payload.Length }).Emit(frame.AsSpan(l3));
        payload.CopyTo(frame.AsSpan(l4));
        return frame;
    }

    /// <summary>Asserts the next frame is a TCP segment sent exactly at <paramref name="at"/> that passes every check.</summary>
    public SentSegment ExpectSent(SimDuration at, params SegCheck[] checks) => ExpectSent(at, SimDuration.Zero, checks);

    /// <summary>As <see cref="ExpectSent(SimDuration, SegCheck[])"/>, sent within ±<paramref name="tolerance"/> of <paramref name="at"/>.</summary>
    public SentSegment ExpectSent(SimDuration at, SimDuration tolerance, params SegCheck[] checks)
    {
        string what = $"a TCP segment ({string.Join(", ", checks.AsEnumerable())})";
        var frame = Next(at, tolerance, what);
        var segment = frame.Tcp ?? throw Failure($"Expected {what} at {When(at, tolerance)}, but the DUT sent:\n{frame}");
        if (Seg.Mismatch(segment, checks) is { } mismatch)
            throw Failure($"The TCP segment sent at {Tcpdump.Time(frame.At)} does not match.\n{mismatch}");
        return segment;
    }

    /// <summary>Asserts the next frame is an ICMP message of this type and code, sent at <paramref name="at"/> (± tolerance).</summary>
    public SentIcmp ExpectSentIcmp(SimDuration at, byte type, byte code, SimDuration tolerance = default)
    {
        string what = $"ICMP type {type} code {code}";
        var frame = Next(at, tolerance, what);
        return frame.Icmp is { } icmp && icmp.Icmp.Type == type && icmp.Icmp.Code == code ? icmp
            : throw Failure($"Expected {what} at {When(at, tolerance)}, but the DUT sent:\n{frame}");
    }

    /// <summary>Asserts that the DUT sends a frame (any IPv4) at <paramref name="at"/> (± tolerance), and returns it.</summary>
    public SentFrame ExpectSentFrame(SimDuration at, SimDuration tolerance = default) => Next(at, tolerance, "a frame");

    /// <summary>
    /// Asserts that the DUT sends nothing before <paramref name="at"/>; events before that instant run. A frame sent
    /// at <paramref name="at"/> itself (by an earlier <see cref="Send"/>) stays queued for the next expectation.
    /// </summary>
    public void ExpectNothingUntil(SimDuration at)
    {
        RunUntilSent(SimTime.Zero + at - SimDuration.FromNanoseconds(1));
        if (_sent.TryPeek(out var frame) && frame.At < at)
            throw Failure($"Expected nothing sent before {Tcpdump.Time(at)}, but the DUT sent:\n{_sent.Dequeue()}");
    }

    /// <summary>
    /// Takes the next frame, running events up to <paramref name="at"/> + tolerance until the DUT sends one
    /// (packetdrill's --tolerance_usecs window). Fails when none is sent by then or it was sent too early.
    /// </summary>
    private SentFrame Next(SimDuration at, SimDuration tolerance, string what)
    {
        var latest = at + tolerance;
        RunUntilSent(SimTime.Zero + latest);
        if (!_sent.TryDequeue(out var frame))
            throw Failure($"Expected {what} at {When(at, tolerance)}, but nothing was sent by {Tcpdump.Time(latest)}.");
        if (frame.At < at - tolerance)
            throw Failure($"Expected {what} at {When(at, tolerance)}, but the DUT sent this at {Tcpdump.Time(frame.At)}:\n{frame}");
        return frame;
    }

    /// <summary>Runs events due by <paramref name="limit"/> until a frame is queued, with awaits resuming on the scheduler.</summary>
    private void RunUntilSent(SimTime limit)
    {
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(Scheduler.SynchronizationContext);
        try
        {
            while (_sent.Count == 0 && Scheduler.Step(limit)) { }
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    private static string When(SimDuration at, SimDuration tolerance) =>
        tolerance == SimDuration.Zero ? Tcpdump.Time(at) : $"{Tcpdump.Time(at)} (±{tolerance})";

    private FailException Failure(string message)
    {
        _failed = true;
        return FailException.ForFailure(message);
    }

    private void Capture(Packet packet)
    {
        var bytes = packet.Data.ToArray();
        packet.Dispose();
        // ARP for anything but the (permanent) gateway is the host's business, never part of a segment script.
        if (EthernetRepr.TryParse(bytes, out var eth) && eth.EtherType == EtherType.Arp) return;
        var frame = new SentFrame(Now, bytes);
        if (_localIsn is null && frame.Tcp is { } s && (s.Tcp.Flags & TcpFlags.Syn) != 0) _localIsn = s.Tcp.Seq;
        _sent.Enqueue(frame);
    }

    /// <summary>
    /// Takes eth0 down, which purges its qdisc and the neighbour queues (Linux: dev_deactivate(), neigh_ifdown()),
    /// then asserts every packet is back in the pool. Skipped after a failed expectation, whose message a leak
    /// report would replace.
    /// </summary>
    public void Dispose()
    {
        if (_failed) return;
        Device.SetUp(false);
        if (Pool.Outstanding != 0)
            throw FailException.ForFailure($"{Pool.Outstanding} packet(s) never returned to the pool (CONVENTIONS rule 3).");
    }

    /// <summary>The cable: never busy, so a frame leaves at the instant the qdisc hands it to the driver.</summary>
    private sealed class CaptureWire(TcpHarness harness) : IWire
    {
        public bool IsBusy => false;
        public void Transmit(Packet frame) => harness.Capture(frame);
    }
}
