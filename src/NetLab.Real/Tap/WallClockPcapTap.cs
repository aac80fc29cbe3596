using NetLab.Core.Pcap;
using NetLab.Real.Time;
using NetLab.Stack.Link;

namespace NetLab.Real.Tap;

/// <summary>tcpdump -w on a device of a host running in real time: frames stamped with the Unix time they passed.</summary>
public sealed class WallClockPcapTap(PcapWriter writer, RealTimeLoop loop) : IPacketTap, IDisposable
{
    public void OnFrame(NetDevice device, TapDirection direction, ReadOnlySpan<byte> frame, long timestampNs) =>
        writer.Write(loop.UnixNsAtVirtualZero + timestampNs, frame);

    public void Dispose() => writer.Dispose();
}
